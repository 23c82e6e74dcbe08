"""kron's own list-and-watch of its runs (Jobs and bare Pods), without kopf.

kopf watches the ScheduledTasks. The runs are watched here instead: every run brings
several events (created, started, finished, deleted), and kopf's per-object machinery
(a worker task and queue per object, its per-object memories) cost about a quarter
of the operator's CPU during a herd and most of its memory after a restart, for
events kron only copies into its index. This watch is what client-go's reflector
does, no more: list the collection in pages (a consistent snapshot), then watch from
the list's resourceVersion with bookmarks; when the server answers 410 Gone (the
version was compacted), list again and tell the owner which objects are still there,
so it can treat the others as deleted.

The server filters by label selector, so each shard of a sharded install receives
only its own runs (see `kron.k8s.shards`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kron.k8s.api import ApiError, KubeApi, Object

log = logging.getLogger(__name__)

Handler = Callable[[str | None, Object], None]
"""(event type, or None for a listed object; the object)."""
Relisted = Callable[[set[tuple[str, str]]], None]
"""After a relist: the (namespace, name) of every object that still exists."""

RETRY_CAP = 30.0


@dataclass
class WatchCounters:
    """What one watch did (tests and metrics read these)."""

    events: int = 0
    lists: int = 0
    restarts: int = 0
    errors: int = 0
    bookmarks: int = 0
    resource_version: str = ""
    listed: set[tuple[str, str]] = field(default_factory=set)


class CollectionWatch:
    """List, then watch, one collection (`path`) filtered by `label_selector`."""

    def __init__(
        self,
        api: KubeApi,
        path: str,
        *,
        label_selector: str,
        handle: Handler,
        relisted: Relisted,
        timeout: int = 300,
        page: int = 500,
    ) -> None:
        self._api = api
        self._path = path
        self._selector = label_selector
        self._handle = handle
        self._relisted = relisted
        self._timeout = timeout
        self._page = page
        self.counters = WatchCounters()

    @property
    def path(self) -> str:
        return self._path

    async def list(self) -> None:
        """One consistent listing, page by page; each object goes to the handler."""
        present: set[tuple[str, str]] = set()
        version = ""
        async for chunk in self._api.list_pages(
            self._path, label_selector=self._selector, page=self._page
        ):
            for item in chunk.items:
                meta = item.get("metadata") or {}
                present.add((str(meta.get("namespace", "")), str(meta.get("name", ""))))
                self._deliver(None, item)
            version = chunk.resource_version
        self.counters.lists += 1
        self.counters.resource_version = version
        self.counters.listed = present

    async def run(self) -> None:
        """Watch forever from the last listing's version; relist when it is too old."""
        attempt = 0
        while True:
            try:
                gone = await self._watch_once()
            except ApiError as err:
                self.counters.errors += 1
                delay = min(RETRY_CAP, 0.5 * 2**attempt) * (0.5 + random.random() / 2)
                log.warning("watch of %s failed (retrying in %.1fs): %s", self._path, delay, err)
                await asyncio.sleep(delay)
                attempt += 1
                gone = err.status == 410
            else:
                attempt = 0
            if gone:
                await self._relist()

    async def _relist(self) -> None:
        while True:
            try:
                await self.list()
            except ApiError as err:
                self.counters.errors += 1
                log.warning("relisting %s failed: %s", self._path, err)
                await asyncio.sleep(1.0 + random.random())
                continue
            self._relisted(self.counters.listed)
            self.counters.listed = set()
            return

    async def _watch_once(self) -> bool:
        """One watch request until the server ends it; True when it said 410 Gone."""
        self.counters.restarts += 1
        events = self._api.watch(
            self._path,
            resource_version=self.counters.resource_version,
            timeout_seconds=self._timeout,
            label_selector=self._selector,
        )
        async for event in events:
            kind = event.get("type")
            obj = event.get("object")
            if not isinstance(obj, dict):
                continue
            if kind == "ERROR":
                code = obj.get("code")
                if code == 410:
                    return True
                raise ApiError(int(code or 0), str(obj.get("reason", "")), str(obj.get("message")))
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if isinstance(version, str) and version:
                self.counters.resource_version = version
            if kind == "BOOKMARK":
                self.counters.bookmarks += 1
                continue
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._deliver(kind, obj)
        return False

    def _deliver(self, kind: str | None, obj: Object) -> None:
        self.counters.events += 1
        try:
            self._handle(kind, obj)
        except Exception:  # the handler guards its own boundary; this is the last resort
            log.exception("handling a watch event of %s failed", self._path)
