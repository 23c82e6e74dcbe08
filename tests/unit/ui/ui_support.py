"""Task objects and an in-memory API server for the kron ui unit tests.

`MemoryApi` holds objects like the API server does and answers the calls kron ui
makes (list, watch, get, merge patch, access and subject reviews), so handler tests
exercise the real feeds, pages and actions; the browser tests in
tests/integration/test_ui_browser.py do the same against a real control plane.
`with_headers` (what bearer mode calls with each user's token) gives a client of the
same server that records the token each of its requests carried (`calls`), and the
server answers as the user a token names (`users`).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kron.k8s.api import ApiError, Listing

Object = dict[str, Any]

CONTAINER = {"name": "main", "image": "busybox"}


def task_obj(
    name: str,
    schedule: str = "0 3 * * *",
    *,
    namespace: str = "team",
    uid: str | None = None,
    status: Object | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Object:
    obj: Object = {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{name}",
            "generation": 1,
            "resourceVersion": "1",
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "spec": {
                    "template": {"spec": {"restartPolicy": "Never", "containers": [CONTAINER]}}
                }
            },
            **spec,
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


def merge(target: Object, patch: Mapping[str, Any]) -> None:
    """RFC 7386 merge patch, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class MemoryApi:
    """The API server of one user: objects, watches, and what that user may do.

    A client made by `with_headers` shares its server's state (``server``) and sends
    its token (``token``); the shared client sends none."""

    host = "https://memory.test"

    def __init__(
        self,
        *,
        may_patch: bool = True,
        user: str = "alice",
        server: MemoryApi | None = None,
        token: str | None = None,
    ) -> None:
        self.server = server or self
        self.token = token
        if server is not None:
            return  # a client of that server: its state is the server's
        self.calls: list[tuple[str | None, str]] = []  # (token sent, "VERB path")
        self.users: dict[str, tuple[str, bool]] = {}  # token -> (user name, may patch)
        self.patch_refusal = "cannot patch resource"
        self.tasks: dict[str, Object] = {}
        self.events: dict[str, Object] = {}
        self.may_patch = may_patch
        self.user = user
        self.version = 1
        self.patches: list[tuple[str, str, Object]] = []
        self.watch_calls: list[str] = []
        self.list_calls: list[str] = []
        self.refuse_list: ApiError | None = None
        self.objects: dict[str, Object] = {}  # other objects by API path (Jobs, Pods)
        self._watchers: list[tuple[str, asyncio.Queue[Object | None]]] = []

    # -- what tests do to it -------------------------------------------------------

    def put(self, obj: Object, kind: str = "ADDED") -> None:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        store = self.events if obj.get("kind") == "Event" else self.tasks
        meta = obj["metadata"]
        store[f"{meta['namespace']}/{meta['name']}"] = obj
        self._emit(kind, obj)

    def delete(self, namespace: str, name: str) -> None:
        obj = self.tasks.pop(f"{namespace}/{name}")
        self.version += 1
        self._emit("DELETED", obj)

    def end_watches(self) -> None:
        for _, queue in self._watchers:
            queue.put_nowait(None)

    def _emit(self, kind: str, obj: Object) -> None:
        resource = "events" if obj.get("kind") == "Event" else "scheduledtasks"
        for path, queue in self._watchers:
            namespace = obj["metadata"]["namespace"]
            if resource in path and (
                f"/namespaces/{namespace}/" in path or "/namespaces/" not in path
            ):
                queue.put_nowait({"type": kind, "object": copy.deepcopy(obj)})

    # -- what kron ui calls ----------------------------------------------------------

    def with_headers(self, headers: Mapping[str, str]) -> MemoryApi:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        assert scheme == "Bearer" and token, headers
        return MemoryApi(server=self.server, token=token)

    def _call(self, verb: str, path: str) -> MemoryApi:
        """Record a request (with the token it carried); the server that answers it."""
        self.server.calls.append((self.token, f"{verb} {path}"))
        return self.server

    def _user(self) -> tuple[str, bool]:
        server = self.server
        if self.token is not None and self.token in server.users:
            return server.users[self.token]
        return server.user, server.may_patch

    def tokens(self, verb: str = "") -> set[str | None]:
        """The tokens that requests (of one verb, if given) carried."""
        return {token for token, call in self.calls if call.startswith(verb)}

    async def close(self) -> None:
        return None

    def _store_of(self, path: str) -> dict[str, Object]:
        return self.events if path.endswith("/events") else self.tasks

    async def list_all(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        page: int = 500,
        field_selector: str | None = None,
    ) -> Listing:
        server = self._call("LIST", path)
        server.list_calls.append(path)
        if server.refuse_list is not None:
            raise server.refuse_list
        if path == "/api/v1/namespaces":
            return Listing([{"metadata": {"name": "team"}}], str(server.version))
        if path.endswith("/pods"):
            wanted = dict([label_selector.split("=", 1)]) if label_selector else {}
            pods = [
                o
                for key, o in server.objects.items()
                if key.startswith(path + "/")
                and all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
            ]
            return Listing(pods, str(server.version))
        store = server._store_of(path)
        items = [
            copy.deepcopy(o)
            for o in store.values()
            if "/namespaces/" not in path or f"/namespaces/{o['metadata']['namespace']}/" in path
        ]
        return Listing(items, str(server.version))

    async def watch(
        self,
        path: str,
        *,
        resource_version: str,
        timeout_seconds: int = 300,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> AsyncIterator[Object]:
        server = self._call("WATCH", path)
        server.watch_calls.append(path)
        queue: asyncio.Queue[Object | None] = asyncio.Queue()
        entry = (path, queue)
        server._watchers.append(entry)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            server._watchers.remove(entry)

    @property
    def open_watches(self) -> int:
        return len(self._watchers)

    async def request(
        self, method: str, path: str, *, body: Object | None = None, **_: Any
    ) -> Object:
        server = self._call(method, path)
        user, may_patch = self._user()
        if path.endswith("/selfsubjectaccessreviews"):
            return {"status": {"allowed": may_patch}}
        if path.endswith("/selfsubjectreviews"):
            return {"status": {"userInfo": {"username": user}}}
        if method == "GET" and path in server.objects:
            return copy.deepcopy(server.objects[path])
        if path.startswith("/apis/kron.dev/v1alpha1") and method == "GET":
            return {"resources": [{"name": "scheduledtasks"}]}
        raise ApiError(404, "NotFound", path)

    async def get_task(self, namespace: str, name: str) -> Object:
        server = self._call("GET", f"{namespace}/{name}")
        found = server.tasks.get(f"{namespace}/{name}")
        if found is None:
            raise ApiError(404, "NotFound", f'scheduledtasks.kron.dev "{name}" not found')
        return copy.deepcopy(found)

    async def patch_task(self, namespace: str, name: str, patch: Object) -> Object:
        server = self._call("PATCH", f"{namespace}/{name}")
        user, may_patch = self._user()
        if not may_patch:  # the API server's words, as the test set them
            raise ApiError(
                403,
                "Forbidden",
                f'scheduledtasks.kron.dev "{name}" is forbidden: User "{user}" '
                f"{server.patch_refusal}",
            )
        server.patches.append((namespace, name, patch))
        obj = server.tasks[f"{namespace}/{name}"]
        merge(obj, patch)
        server.put(obj, "MODIFIED")
        return copy.deepcopy(obj)
