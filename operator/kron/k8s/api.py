"""The one place kron talks to the Kubernetes API server.

`KubeApi` wraps the `kubernetes.aio` client: it reuses its configuration, auth and
connection pool, but sends plain dicts and reads plain JSON, skipping the
generated model classes (the fire path creates thousands of Jobs a second and
model (de)serialisation was pure overhead). Every call is timed and counted by
verb and code, and every failure becomes an `ApiError` whose `retryable` says
whether trying again can help.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from kubernetes.aio import client as kclient
from kubernetes.aio import config as kconfig

from kron.api import RunKind
from kron.api.constants import CALENDAR_PLURAL, GROUP, PLURAL, VERSION
from kron.k8s.environment import pin_environment
from kron.k8s.errors import FENCED, RETRYABLE_CODES, ApiError
from kron.k8s.stream import events

__all__ = [
    "FENCED",
    "MERGE_PATCH",
    "RETRYABLE_CODES",
    "ApiError",
    "Fence",
    "KubeApi",
    "Listing",
    "Object",
    "pin_environment",
]

Object = dict[str, Any]
RequestObserver = Callable[[str, str, int, float], None]
"""(verb, resource, HTTP code or 0 for no answer, seconds) for metrics."""

Fence = Callable[[], bool]
"""True while this replica may write; checked right before every write is sent."""
MERGE_PATCH: Final = "application/merge-patch+json"


@dataclass(frozen=True, slots=True)
class Listing:
    items: list[Object]
    resource_version: str


def run_path(kind: RunKind, namespace: str, name: str | None = None) -> str:
    base = (
        f"/apis/batch/v1/namespaces/{namespace}/jobs"
        if kind is RunKind.JOB
        else f"/api/v1/namespaces/{namespace}/pods"
    )
    return f"{base}/{name}" if name else base


def all_runs_path(kind: RunKind, namespace: str | None) -> str:
    if namespace:
        return run_path(kind, namespace)
    return "/apis/batch/v1/jobs" if kind is RunKind.JOB else "/api/v1/pods"


def task_path(namespace: str | None, name: str | None = None) -> str:
    if namespace is None:
        return f"/apis/{GROUP}/{VERSION}/{PLURAL}"
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    return f"{base}/{name}" if name else base


def calendar_path(namespace: str | None) -> str:
    """Calendars of `namespace` (None: of every namespace)."""
    if namespace is None:
        return f"/apis/{GROUP}/{VERSION}/{CALENDAR_PLURAL}"
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{CALENDAR_PLURAL}"


def lease_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    return f"{base}/{name}" if name else base


class KubeApi:
    """Thin async access to the API server with plain-dict bodies."""

    def __init__(
        self,
        api_client: kclient.ApiClient,
        observer: RequestObserver | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        owns_client: bool = True,
    ):
        self._client = api_client
        self._observer = observer
        self._headers = dict(headers or {})
        self._owns_client = owns_client
        self.fence: Fence | None = None
        """Writes (everything but GET) are refused unless this says yes: a leader
        that was paused past its renew deadline must not send what it queued
        before, even before its elector has noticed. None: no fence."""

    def with_headers(self, headers: Mapping[str, str]) -> KubeApi:
        """The same connection sending ``headers`` on every request (they replace the
        configured ones of the same name, ``Authorization`` included): `kron ui` in a
        cluster forwards each user's own bearer token this way. Closing it leaves the
        shared connection open."""
        return KubeApi(
            self._client, self._observer, headers={**self._headers, **headers}, owns_client=False
        )

    @classmethod
    async def connect(
        cls,
        kubeconfig: str | None = None,
        *,
        context: str | None = None,
        pool_size: int = 64,
        observer: RequestObserver | None = None,
        own_credentials: bool = True,
    ) -> KubeApi:
        """Kubeconfig when given or found, else the in-cluster service account.

        With ``own_credentials=False`` only the server's address and CA are kept: no
        client certificate, token or token refresh, so every request carries only the
        credentials a caller adds with `with_headers`.
        """
        configuration = kclient.Configuration()
        try:
            await kconfig.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
        except (kconfig.ConfigException, FileNotFoundError, TypeError):
            if kubeconfig:
                raise
            kconfig.load_incluster_config(client_configuration=configuration)
        if not own_credentials:
            configuration.api_key = {}
            configuration.api_key_prefix = {}
            configuration.refresh_api_key_hook = None
            configuration.cert_file = None
            configuration.key_file = None
            configuration.username = None
            configuration.password = None
        configuration.connection_pool_maxsize = pool_size
        pin_environment(configuration)
        return cls(kclient.ApiClient(configuration), observer)

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    @property
    def configuration(self) -> kclient.Configuration:
        """The resolved connection (kopf's login handler reuses it)."""
        configuration: kclient.Configuration = self._client.configuration
        return configuration

    async def close(self) -> None:
        if self._owns_client:
            await self._client.close()

    def _add_headers(self, headers: dict[str, Any]) -> None:
        for name in self._headers:
            for present in [key for key in headers if key.lower() == name.lower()]:
                del headers[present]
        headers.update(self._headers)

    # -- the one request primitive ---------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Object | None = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
        request_timeout: float | None = 30.0,
    ) -> Object:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        serialized = await self._client.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        url, hdrs, data = serialized[1], serialized[2], serialized[3]
        if self._headers:
            self._add_headers(hdrs)
        resource = _resource_of(path)
        if method != "GET" and self.fence is not None and not self.fence():
            raise ApiError(0, FENCED, f"{method} {resource} not sent: this replica's lease lapsed")
        started = time.perf_counter()
        code = 0
        try:
            response = await self._client.call_api(
                method, url, header_params=hdrs, body=data, _request_timeout=request_timeout
            )
            code = response.status
            raw = await response.read()
        except kclient.ApiException as err:  # raised by the REST layer on some failures
            code = int(err.status or 0)
            raise refused(err) from None
        except TRANSPORT_ERRORS as err:
            raise unanswered(err) from None
        finally:
            if self._observer is not None:
                self._observer(method, resource, code, time.perf_counter() - started)
        try:
            payload: Object = json.loads(raw) if raw else {}
        except ValueError:
            # Not JSON: "404 page not found" for an API the server does not serve (the
            # CRD is not installed), or a proxy's error page.
            text = raw[:300].decode(errors="replace").strip()
            raise ApiError(code or 0, "NotJSON", text or "empty answer") from None
        if 200 <= code < 300:
            return payload
        raise ApiError(code, str(payload.get("reason", "")), str(payload.get("message", raw[:300])))

    # -- runs --------------------------------------------------------------------------

    async def create_run(self, kind: RunKind, namespace: str, body: Object) -> Object:
        return await self.request("POST", run_path(kind, namespace), body=body)

    async def get_run(self, kind: RunKind, namespace: str, name: str) -> Object:
        return await self.request("GET", run_path(kind, namespace, name))

    async def delete_run(
        self, kind: RunKind, namespace: str, name: str, uid: str, *, foreground: bool
    ) -> None:
        """Delete exactly this run (UID precondition); already gone is fine."""
        body: Object = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Foreground" if foreground else "Background",
        }
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            await self.request("DELETE", run_path(kind, namespace, name), body=body)
        except ApiError as err:
            if not (err.not_found or (err.status == 409 and uid)):
                raise

    # -- tasks -------------------------------------------------------------------------

    async def get_task(self, namespace: str, name: str) -> Object:
        return await self.request("GET", task_path(namespace, name))

    async def patch_task(self, namespace: str, name: str, patch: Object) -> Object:
        """Merge-patch the task itself (spec, metadata), not its status subresource."""
        return await self.request(
            "PATCH", task_path(namespace, name), body=patch, content_type=MERGE_PATCH
        )

    async def patch_task_status(self, namespace: str, name: str, patch: Object) -> Object:
        return await self.request(
            "PATCH", task_path(namespace, name) + "/status", body=patch, content_type=MERGE_PATCH
        )

    # -- lists -------------------------------------------------------------------------

    async def list_all(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        page: int = 500,
        field_selector: str | None = None,
    ) -> Listing:
        """Every object at `path`, fetched in pages of one consistent snapshot."""
        items: list[Object] = []
        version = ""
        async for chunk in self.list_pages(
            path, label_selector=label_selector, page=page, field_selector=field_selector
        ):
            items.extend(chunk.items)
            version = chunk.resource_version
        return Listing(items, version)

    async def list_pages(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        page: int = 500,
        field_selector: str | None = None,
    ) -> AsyncIterator[Listing]:
        """The objects at `path` a page at a time (one consistent snapshot), so a caller
        that digests each page never holds the whole list: listing 5,000 tasks at
        once left the operator's RSS 50 MB higher for good (freed memory stays
        fragmented in Python's arenas). The last page carries the list's version."""
        token = ""
        while True:
            query = [("limit", str(page))]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if field_selector:
                query.append(("fieldSelector", field_selector))
            if token:
                query.append(("continue", token))
            result = await self.request("GET", path, query=query, request_timeout=120.0)
            meta = result.get("metadata") or {}
            token = meta.get("continue") or ""
            yield Listing(result.get("items") or [], str(meta.get("resourceVersion", "")))
            if not token:
                return

    # -- watches -----------------------------------------------------------------------

    async def watch(
        self,
        path: str,
        *,
        resource_version: str,
        timeout_seconds: int = 300,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> AsyncIterator[Object]:
        """The watch events (``{"type": ..., "object": ...}``) at ``path`` after
        ``resource_version``, with bookmarks, until the server ends the watch (after
        about ``timeout_seconds``). ``ERROR`` events (410 Gone: list again) are yielded
        like the others; a refused watch raises `ApiError`."""
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        if resource_version:
            query.append(("resourceVersion", resource_version))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        if label_selector:
            query.append(("labelSelector", label_selector))
        serialized = await self._client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        url, hdrs = serialized[1], serialized[2]
        if self._headers:
            self._add_headers(hdrs)
        try:
            response = await self._client.call_api(
                "GET", url, header_params=hdrs, _request_timeout=timeout_seconds + 30
            )
        except kclient.ApiException as err:
            raise refused(err) from None
        except TRANSPORT_ERRORS as err:
            raise unanswered(err) from None
        raw: aiohttp.ClientResponse = response.response
        started = time.perf_counter()
        try:
            if not 200 <= raw.status < 300:
                body = await raw.read()
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"message": body[:300].decode(errors="replace")}
                raise ApiError(
                    raw.status, str(payload.get("reason", "")), str(payload.get("message", ""))
                )
            async for event in events(raw.content.iter_any()):
                yield event
        except TRANSPORT_ERRORS as err:
            raise unanswered(err) from None
        finally:
            raw.release()
            if self._observer is not None:
                self._observer(
                    "WATCH", _resource_of(path), raw.status, time.perf_counter() - started
                )

    # -- events and leases ---------------------------------------------------------------

    async def create_event(self, namespace: str, body: Object) -> Object:
        return await self.request("POST", f"/api/v1/namespaces/{namespace}/events", body=body)

    async def patch_event(self, namespace: str, name: str, patch: Object) -> Object:
        return await self.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/events/{name}",
            body=patch,
            content_type=MERGE_PATCH,
        )

    async def get_lease(self, namespace: str, name: str) -> Object:
        return await self.request("GET", lease_path(namespace, name))

    async def create_lease(self, namespace: str, body: Object) -> Object:
        return await self.request("POST", lease_path(namespace), body=body)

    async def replace_lease(self, namespace: str, name: str, body: Object) -> Object:
        return await self.request("PUT", lease_path(namespace, name), body=body)


TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
"""No answer came back (connection refused or reset, a timeout)."""


def refused(err: kclient.ApiException) -> ApiError:
    return ApiError(int(err.status or 0), str(err.reason or ""), str(err.body or err))


def unanswered(err: BaseException) -> ApiError:
    return ApiError(0, type(err).__name__, str(err) or type(err).__name__)


def _resource_of(path: str) -> str:
    """The resource plural of an API path, for low-cardinality metric labels."""
    parts = [p for p in path.split("?", maxsplit=1)[0].split("/") if p]
    if "namespaces" in parts:
        i = parts.index("namespaces")
        rest = parts[i + 2 :]
        if not rest:
            return "namespaces"
        return "/".join([rest[0], *rest[2:3]]) if len(rest) > 2 else rest[0]
    return parts[-1] if parts else ""
