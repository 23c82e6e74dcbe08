"""What the API server says about the person asking: who they are, what they may do.

Pages show the actions a user's rights allow and say why others are greyed out; the
API server's authorizer answers (SelfSubjectAccessReview), not a guess from role
names, and the real refusal of a request still comes from the API server itself.
Answers are cached briefly per identity so a page render costs at most one review.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kron.api.constants import GROUP, PLURAL
from kron.k8s.api import ApiError
from kron.ui.security import Identity

T = TypeVar("T")

ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SUBJECT_REVIEW_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


@dataclass(frozen=True, slots=True)
class Access:
    allowed: bool
    reason: str


class TtlCache(Generic[T]):
    """A small LRU with expiry (monotonic clock), bounded in entries."""

    def __init__(self, ttl: float, size: int = 1024) -> None:
        self._ttl = ttl
        self._size = size
        self._items: OrderedDict[tuple[str, ...], tuple[float, T]] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> T | None:
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: tuple[str, ...], value: T) -> T:
        self._items[key] = (time.monotonic() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def drop(self, prefix: str) -> None:
        for key in [k for k in self._items if k[0] == prefix]:
            del self._items[key]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Directory:
    """Cached answers about identities: their name, their rights, their namespaces."""

    def __init__(self) -> None:
        self._access: TtlCache[Access] = TtlCache(30.0)
        self._names: TtlCache[str] = TtlCache(300.0)
        self._namespaces: TtlCache[list[str]] = TtlCache(60.0)

    async def may_patch(self, identity: Identity, namespace: str, name: str) -> Access:
        """May this identity patch the task (the verb every action needs)?"""
        key = (identity.key, namespace, name)
        cached = self._access.get(key)
        if cached is not None:
            return cached
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "namespace": namespace,
                    "verb": "patch",
                    "group": GROUP,
                    "resource": PLURAL,
                    "name": name,
                }
            },
        }
        try:
            answer = await identity.api.request("POST", ACCESS_REVIEW_PATH, body=body)
        except ApiError as err:
            # Unknown: offer the action, and let the API server's answer decide.
            return Access(True, f"could not ask the authorizer ({err.status} {err.reason})")
        status = _dict(answer.get("status"))
        allowed = status.get("allowed") is True
        reason = str(status.get("reason") or "")
        if not allowed:
            reason = (
                f"your rights do not include patch on {PLURAL}.{GROUP} in namespace "
                f"{namespace}" + (f" ({reason})" if reason else "")
            )
        return self._access.put(key, Access(allowed, reason))

    async def name_of(self, identity: Identity) -> str:
        """The user name the API server sees (SelfSubjectReview), or a placeholder."""
        cached = self._names.get((identity.key,))
        if cached is not None:
            return cached
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            answer = await identity.api.request("POST", SUBJECT_REVIEW_PATH, body=body)
        except ApiError:
            return "unknown user"
        user = _dict(_dict(answer.get("status")).get("userInfo"))
        return self._names.put((identity.key,), str(user.get("username") or "unknown user"))

    async def namespaces(self, identity: Identity) -> list[str]:
        """Namespaces this identity may list (empty when it may not list namespaces)."""
        cached = self._namespaces.get((identity.key,))
        if cached is not None:
            return cached
        try:
            listing = await identity.api.list_all("/api/v1/namespaces")
        except ApiError:
            return self._namespaces.put((identity.key,), [])
        names = sorted(str(_dict(item.get("metadata")).get("name") or "") for item in listing.items)
        return self._namespaces.put((identity.key,), [n for n in names if n][:500])

    def forget(self, identity: Identity) -> None:
        """Drop cached rights (after a refusal, so the page asks again)."""
        self._access.drop(identity.key)
