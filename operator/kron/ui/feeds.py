"""Shared list+watch feeds: one per (identity, resource, namespace), for all open pages.

A page needs the tasks (and their Events) of a namespace, and every open tab wants to
hear when they change. Each tab polling the API server would multiply the load by the
number of tabs; instead one `Feed` lists once and then watches, keeps the objects in
memory, and wakes every `Listener` (one per server-sent event stream) when something
changed. It starts when a page asks for it and stops `linger` seconds after the last
page or stream let go of it.

Feeds are keyed by identity too: two people never share one, since each sees what
their own rights allow (in local mode there is one identity, the kubeconfig's).
Memory is bounded: managed fields are dropped, and a feed holds at most
`max_objects` objects (the oldest Events go first; extra tasks are counted, not kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

from kron.api.constants import CRD_NAME
from kron.k8s.api import ApiError, Listing, task_path

log = logging.getLogger(__name__)

Object = dict[str, Any]

TASKS: Final = "tasks"
EVENTS: Final = "events"
EVENT_SELECTOR: Final = "involvedObject.kind=ScheduledTask"
INSTALL_HINT: Final = "kron crd | kubectl apply --server-side -f -"


class WatchApi(Protocol):
    """What a feed needs of `kron.k8s.api.KubeApi` (a fake in unit tests)."""

    async def list_all(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        page: int = 500,
        field_selector: str | None = None,
    ) -> Listing: ...

    def watch(
        self,
        path: str,
        *,
        resource_version: str,
        timeout_seconds: int = 300,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> AsyncIterator[Object]: ...


@dataclass(frozen=True, slots=True)
class FeedKey:
    identity: str
    resource: str  # TASKS or EVENTS
    namespace: str | None  # None: all namespaces

    @property
    def path(self) -> str:
        if self.resource == TASKS:
            return task_path(self.namespace)
        if self.namespace is None:
            return "/api/v1/events"
        return f"/api/v1/namespaces/{self.namespace}/events"

    @property
    def field_selector(self) -> str | None:
        return EVENT_SELECTOR if self.resource == EVENTS else None

    @property
    def what(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        noun = "ScheduledTasks" if self.resource == TASKS else "Events"
        return f"{noun} in {where}"


def explain(err: ApiError, key: FeedKey | None = None) -> str:
    """The one line a person can act on."""
    if err.status == 403:
        return f"forbidden: {err.message}"
    if err.status == 401:
        return "unauthorized: the API server rejected your credentials (log in again)"
    if err.status == 404 and key is not None and key.resource == TASKS:
        return f"the ScheduledTask CRD ({CRD_NAME}) is not installed (install it: {INSTALL_HINT})"
    if err.status == 0:
        return f"cannot reach the API server: {err.message}"
    return f"the API server answered {err.status} {err.reason}: {err.message}"[:400]


def object_key(obj: Object) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _slim(obj: Object) -> Object:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


class Listener:
    """One stream's wake-up call: set when any feed it listens to changed."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.changed.set()  # a new stream first gets everything the feed already has
        self.keys: set[str] = set()
        self.everything = True

    def notify(self, key: str | None) -> None:
        if key is None:
            self.everything = True
        else:
            self.keys.add(key)
        self.changed.set()

    def take(self) -> tuple[bool, set[str]]:
        """(everything changed, the keys changed) since the last take."""
        everything, keys = self.everything, self.keys
        self.everything, self.keys = False, set()
        self.changed.clear()
        return everything, keys


class Feed:
    """The objects of one key, kept current by one watch."""

    def __init__(self, key: FeedKey, api: WatchApi, *, watch_timeout: int, max_objects: int):
        self.key = key
        self.objects: dict[str, Object] = {}
        self.synced = asyncio.Event()
        self.error: str | None = None
        self.status = 0  # HTTP code of the last failure
        self.dropped = 0  # objects not kept (max_objects)
        self.watches = 0  # watch requests sent (for the tests and /healthz)
        self.users = 0
        self.listeners: set[Listener] = set()
        self._api = api
        self._watch_timeout = watch_timeout
        self._max_objects = max_objects
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.TimerHandle | None = None

    @property
    def live(self) -> bool:
        return self.synced.is_set() and self.error is None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"kron-ui-feed {self.key.what}")

    async def close(self) -> None:
        if self._stop is not None:
            self._stop.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _notify(self, key: str | None) -> None:
        for listener in self.listeners:
            listener.notify(key)

    def _store(self, obj: Object) -> None:
        key = object_key(obj)
        if key not in self.objects and len(self.objects) >= self._max_objects:
            if self.key.resource == EVENTS:
                self.objects.pop(next(iter(self.objects)))
            else:
                self.dropped += 1
                return
        self.objects[key] = _slim(obj)

    async def _list(self) -> str:
        listing = await self._api.list_all(self.key.path, field_selector=self.key.field_selector)
        self.objects.clear()
        self.dropped = 0
        for obj in listing.items:
            self._store(obj)
        self.error, self.status = None, 0
        self.synced.set()
        self._notify(None)
        return listing.resource_version

    async def _watch(self, version: str) -> str | None:
        """Follow changes from ``version``; the version to go on from, None to list again."""
        self.watches += 1
        async for event in self._api.watch(
            self.key.path,
            resource_version=version,
            timeout_seconds=self._watch_timeout,
            field_selector=self.key.field_selector,
        ):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:  # too old: list again
                    return None
                raise ApiError(int(obj.get("code") or 0), str(obj.get("reason", "")), str(obj))
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if kind == "BOOKMARK":
                continue
            key = object_key(obj)
            if kind == "DELETED":
                self.objects.pop(key, None)
            else:
                self._store(obj)
            self._notify(key)
        return version

    async def _run(self) -> None:
        backoff = 1.0
        version: str | None = None
        while True:
            try:
                if version is None:
                    version = await self._list()
                    backoff = 1.0
                began = asyncio.get_running_loop().time()
                version = await self._watch(version)
                if asyncio.get_running_loop().time() - began < 1.0:
                    await asyncio.sleep(1.0)  # a server ending watches at once: do not spin
            except ApiError as err:
                self.error, self.status = explain(err, self.key), err.status
                self.synced.set()
                self._notify(None)
                version = None
                log.info("%s: %s (retrying in %.0fs)", self.key.what, self.error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception as err:  # a malformed answer must not end the feed for good
                log.exception("%s: watch failed", self.key.what)
                self.error, self.status = f"watch failed: {type(err).__name__}: {err}", 0
                self.synced.set()
                self._notify(None)
                version = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)


class FeedLimitError(Exception):
    """More feeds are open than the server allows (many identities or namespaces)."""


class Feeds:
    """The open feeds; `use()` a feed for a page render, `listen()` for a stream."""

    def __init__(
        self,
        *,
        linger: float = 30.0,
        watch_timeout: int = 300,
        max_feeds: int = 200,
        max_objects: int = 5_000,
    ) -> None:
        self._feeds: dict[FeedKey, Feed] = {}
        self._linger = linger
        self._watch_timeout = watch_timeout
        self._max_feeds = max_feeds
        self._max_objects = max_objects

    def acquire(self, key: FeedKey, api: WatchApi) -> Feed:
        feed = self._feeds.get(key)
        if feed is None:
            if len(self._feeds) >= self._max_feeds:
                raise FeedLimitError(f"{len(self._feeds)} watches are open, the most allowed")
            feed = Feed(key, api, watch_timeout=self._watch_timeout, max_objects=self._max_objects)
            self._feeds[key] = feed
            feed.start()
        feed.users += 1
        if feed._stop is not None:
            feed._stop.cancel()
            feed._stop = None
        return feed

    def release(self, feed: Feed) -> None:
        feed.users -= 1
        if feed.users > 0 or self._feeds.get(feed.key) is not feed:
            return
        loop = asyncio.get_running_loop()
        feed._stop = loop.call_later(self._linger, self._expire, feed)

    def _expire(self, feed: Feed) -> None:
        if feed.users == 0 and self._feeds.get(feed.key) is feed:
            del self._feeds[feed.key]
            asyncio.get_running_loop().create_task(feed.close())

    @contextlib.asynccontextmanager
    async def use(self, key: FeedKey, api: WatchApi, *, wait: float = 20.0) -> AsyncIterator[Feed]:
        """A feed that has listed once (or failed to), held while the block runs."""
        feed = self.acquire(key, api)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.synced.wait(), wait)
            if not feed.synced.is_set():
                feed.error = f"the API server did not answer within {wait:.0f}s"
            yield feed
        finally:
            self.release(feed)

    @contextlib.asynccontextmanager
    async def listen(
        self, keys: list[FeedKey], api: WatchApi
    ) -> AsyncIterator[tuple[Listener, list[Feed]]]:
        """A listener woken by changes of all ``keys``' feeds, held while the block runs."""
        listener = Listener()
        feeds: list[Feed] = []
        try:
            for key in keys:
                feed = self.acquire(key, api)
                feeds.append(feed)
                feed.listeners.add(listener)
            yield listener, feeds
        finally:
            for feed in feeds:
                feed.listeners.discard(listener)
                self.release(feed)

    def stats(self) -> dict[str, int]:
        feeds = list(self._feeds.values())
        return {
            "feeds": len(feeds),
            "listeners": sum(len(f.listeners) for f in feeds),
            "watch_requests": sum(f.watches for f in feeds),
        }

    def open_keys(self) -> list[FeedKey]:
        return list(self._feeds)

    async def close(self) -> None:
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            await feed.close()
