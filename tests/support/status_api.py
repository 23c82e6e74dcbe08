"""Stand-ins for the wire of status writes: a task's status held by a fake API
server (its answers are what the API server returns for a merge patch) and the
engine's side the status writer calls back into."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, cast
from unittest import mock

import pytest

from kron.engine.executor import Executor
from kron.engine.faults import Faults
from kron.engine.index import TaskEntry
from kron.engine.pool import WorkPool
from kron.k8s.api import ApiError, KubeApi
from kron.k8s.patch import apply_merge_patch
from kron.k8s.runs import TaskRef
from kron.metrics import Metrics

UID = "uid-1"


class Server:
    """Holds a task's status; each PATCH waits for `release` before it applies."""

    def __init__(self) -> None:
        self.status: dict[str, Any] = {}
        self.patches: list[dict[str, Any]] = []
        self.preconditions: list[str | None] = []
        self.gate = asyncio.Semaphore(0)
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail_next: ApiError | None = None
        self.arrived: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def get_task(self, namespace: str, name: str) -> Any:
        return {
            "metadata": {"uid": UID, "resourceVersion": str(100 + len(self.patches))},
            "status": self.status,
        }

    async def patch_task_status(self, namespace: str, name: str, body: dict[str, Any]) -> Any:
        self.preconditions.append((body.get("metadata") or {}).get("resourceVersion"))
        self.patches.append(body["status"])
        self.arrived.put_nowait(body["status"])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.gate.acquire()
        finally:
            self.in_flight -= 1
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        self.status = apply_merge_patch(self.status, body["status"])
        return {
            "metadata": {"uid": UID, "resourceVersion": str(len(self.patches))},
            "status": self.status,
        }


class Engine:
    def __init__(self, entry: TaskEntry) -> None:
        self.tasks = {UID: entry}
        self.leading = True
        self.woken: list[str] = []

    def observe_task(
        self, event_type: str | None, obj: dict[str, Any], *, known_only: bool = False
    ) -> None:
        self.tasks[UID].rv = int(obj["metadata"]["resourceVersion"])
        self.tasks[UID].set_persisted(obj.get("status") or {}, keep_intent=True)

    def observe_run(self, *args: Any) -> None:
        raise AssertionError("no runs in these tests")

    def wake(self, uid: str, when: float | None = None) -> None:
        self.woken.append(uid)


@contextlib.asynccontextmanager
async def status_setup(
    server: Server, clock: Callable[[], float], status_interval: float = 0.0
) -> AsyncIterator[tuple[Server, TaskEntry, Executor]]:
    """One task, a real pool and executor (with its status writer) writing to `server`."""
    entry = TaskEntry(ref=TaskRef("ns", "t", UID))
    pool = WorkPool(workers=8, qps=1000, burst=1000)
    metrics = Metrics()
    executor = Executor(
        Engine(entry),
        api=cast(KubeApi, server),
        pool=pool,
        metrics=metrics,
        events=mock.Mock(),
        faults=Faults(metrics),
        clock=clock,
        status_interval=status_interval,
    )
    runner = asyncio.create_task(pool.run())
    yield server, entry, executor
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
