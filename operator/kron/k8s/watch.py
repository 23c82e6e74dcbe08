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
import time
from collections.abc import Callable
from dataclasses import dataclass

from kron.k8s.api import ApiError, KubeApi, Object

log = logging.getLogger(__name__)

Handler = Callable[[str | None, Object], None]
"""(event type, or None for a listed object; the object)."""
Relisted = Callable[[set[tuple[str, str]]], None]
"""After a relist: the (namespace, name) of every object that still exists."""

RETRY_CAP = 30.0
MIN_WATCH_SECONDS = 1.0
"""A watch the server ends sooner than this made no progress: the next waits."""


def retry_delay(attempt: int) -> float:
    """Exponential from 0.5 s up to RETRY_CAP, with jitter (half to full)."""
    return min(RETRY_CAP, 0.5 * 2.0**attempt) * (0.5 + random.random() / 2)


@dataclass
class WatchCounters:
    """What one watch did (the tests read these)."""

    events: int = 0
    lists: int = 0
    restarts: int = 0
    errors: int = 0
    bookmarks: int = 0
    resource_version: str = ""


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

    async def list(self) -> set[tuple[str, str]]:
        """One consistent listing, page by page; each object goes to the handler.
        Returns the (namespace, name) of every object listed."""
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
        return present

    async def run(self) -> None:
        """Watch forever from the last listing's version; relist when it is too old.

        Whatever goes wrong with one watch request (a refusal, a broken stream, an
        answer kron cannot read) ends that request only: the next one follows after
        a backoff. So does a watch the server ends at once, which would otherwise
        be re-sent in a tight loop.
        """
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                gone = await self._watch_once()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.counters.errors += 1
                gone = isinstance(err, ApiError) and err.status == 410
                delay = retry_delay(attempt)
                log.warning("watch of %s failed (retrying in %.1fs): %s", self._path, delay, err)
                await asyncio.sleep(delay)
                attempt += 1
            else:
                if time.monotonic() - started < MIN_WATCH_SECONDS and not gone:
                    await asyncio.sleep(retry_delay(attempt))
                    attempt += 1
                else:
                    attempt = 0
            if gone:
                await self._relist()

    async def _relist(self) -> None:
        attempt = 0
        while True:
            try:
                present = await self.list()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.counters.errors += 1
                delay = retry_delay(attempt)
                log.warning("relisting %s failed (retrying in %.1fs): %s", self._path, delay, err)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            self._relisted(present)
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
                status = code if isinstance(code, int) else 0
                raise ApiError(
                    status, str(obj.get("reason", ""))[:100], str(obj.get("message"))[:300]
                )
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
