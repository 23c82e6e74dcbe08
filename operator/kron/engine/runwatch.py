"""The watches of a replica's runs: one per kind and namespace scope, server-filtered.

Built from the settings (namespaces, shard), they feed the index: their first
listing is part of the index load (runs before tasks), then each watches from its
listing's version for as long as the replica lives. A relist after the server
compacted past a watch's version tells the index which runs still exist.
"""

from __future__ import annotations

import asyncio

from kron.api import RunKind
from kron.engine.observing import TaskIndex
from kron.k8s.api import KubeApi, Object, all_runs_path
from kron.k8s.shards import run_selector
from kron.k8s.watch import CollectionWatch, Handler, Relisted
from kron.settings import Settings


class RunWatches:
    def __init__(self, api: KubeApi, index: TaskIndex, settings: Settings) -> None:
        selector = run_selector(settings.shard_index, settings.shard_count)
        scopes: list[str | None] = list(settings.namespaces) or [None]
        self.watches: list[CollectionWatch] = []
        for kind in (RunKind.JOB, RunKind.POD):
            for namespace in scopes:
                self.watches.append(
                    CollectionWatch(
                        api,
                        all_runs_path(kind, namespace),
                        label_selector=selector,
                        handle=_handler(index, kind),
                        relisted=_relisted(index, kind, namespace),
                        timeout=settings.watch_timeout,
                    )
                )

    async def list(self) -> None:
        """Every run, page by page, into the index (the first half of the index load)."""
        for watch in self.watches:
            await watch.list()

    async def run(self) -> None:
        """Watch every collection until cancelled."""
        async with asyncio.TaskGroup() as group:
            for watch in self.watches:
                group.create_task(watch.run(), name=f"watch {watch.path}")


def _handler(index: TaskIndex, kind: RunKind) -> Handler:
    def handle(event_type: str | None, obj: Object) -> None:
        index.observe_run(kind, event_type, obj)

    return handle


def _relisted(index: TaskIndex, kind: RunKind, namespace: str | None) -> Relisted:
    def relisted(present: set[tuple[str, str]]) -> None:
        index.runs_relisted(kind, namespace, present)

    return relisted
