"""Writing each task's status: one merge patch per task at a time, gathered.

What must be seen at once (a condition's state, the generation observed, a request
acted on) is written at once. Progress (runs started and finished, the times and
counts they move) waits `interval` seconds from its first change, gathering what
follows; while a run of the task is still going it waits for that run to end, up
to HOLD_FACTOR intervals, so a run that ends within a minute costs one write for
its start and its end, however slow the Job controller is to mark it complete.
A conflict (the task changed since this status was computed) drops the intent and
plans the task again from what the server has. History cleanup waits for the
write that records the runs it removes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from kron.engine.faults import Faults, Stage, retry_delay
from kron.engine.index import TaskEntry
from kron.engine.observing import where
from kron.engine.pool import Lane, WorkPool
from kron.k8s.api import ApiError, KubeApi
from kron.k8s.patch import merge_patch
from kron.metrics import Metrics
from kron.planner import DeleteRun, RunPhase

log = logging.getLogger(__name__)

HOLD_FACTOR = 6
"""Progress waits at most this many intervals for a running run to end (60 s at the
default 10 s interval); the status then shows the run as active."""


class Observer(Protocol):
    """What the status writer needs from the engine."""

    tasks: dict[str, TaskEntry]

    @property
    def leading(self) -> bool: ...

    def observe_task(self, event_type: str | None, obj: dict[str, Any]) -> None: ...

    def wake(self, uid: str, when: float | None = None) -> None: ...


class StatusWriter:
    def __init__(
        self,
        engine: Observer,
        *,
        api: KubeApi,
        pool: WorkPool,
        metrics: Metrics,
        faults: Faults,
        clock: Callable[[], float],
        interval: float,
        release_cleanup: Callable[[TaskEntry, list[DeleteRun]], None],
        backoff: Callable[[int], float],
    ) -> None:
        self._engine = engine
        self._api = api
        self._pool = pool
        self._metrics = metrics
        self._faults = faults
        self._clock = clock
        self._interval = interval
        self._hold = interval * HOLD_FACTOR
        self._release_cleanup = release_cleanup
        self._backoff = backoff

    def dirty(self, entry: TaskEntry, *, at_once: bool = True) -> None:
        """Queue a status write for `entry` unless one is queued already.

        One write per task at a time: two merge patches computed from the same
        persisted base could land in either order, the older one last. A change
        made while a write is in flight is sent when that write returns. Progress
        (`at_once=False`) waits; a change that must be seen at once sends a waiting
        write now, and the end of the runs a write was held for sends it once the
        interval since its first change has passed.
        """
        now = self._clock()
        if entry.status_queued:
            if at_once:
                entry.status_urgent = True
                self._bring_forward(entry, now, now)
            elif entry.status_due > now and not _running(entry):
                self._bring_forward(entry, now, max(now, entry.status_since + self._interval))
            return
        entry.status_queued = True
        entry.status_urgent = at_once
        entry.status_since = now
        entry.status_due = now if at_once else now + self._interval
        if not entry.status_writing:
            self._submit(entry.ref.uid, delay=entry.status_due - now)

    def flush(self) -> int:
        """Send every gathered status write now (a leader about to step down); how
        many were waiting."""
        waiting = 0
        now = self._clock()
        for entry in self._engine.tasks.values():
            if entry.status_queued and entry.status_due > now:
                entry.status_urgent = True
                self._bring_forward(entry, now, now)
                waiting += 1
        return waiting

    def _bring_forward(self, entry: TaskEntry, now: float, due: float) -> None:
        if due >= entry.status_due:
            return
        entry.status_due = due
        if not entry.status_writing:
            # The job queued for the later time finds the write done and returns.
            self._submit(entry.ref.uid, delay=due - now)

    def _submit(self, uid: str, attempt: int = 0, delay: float = 0.0) -> None:
        entry = self._engine.tasks.get(uid)
        namespace = entry.ref.namespace if entry is not None else ""

        async def job() -> None:
            await self._write(uid, attempt)

        if delay > 0:
            self._pool.submit_later(delay, Lane.STATUS, job, key=uid, namespace=namespace)
        else:
            self._pool.submit(Lane.STATUS, job, key=uid, namespace=namespace)

    async def _write(self, uid: str, attempt: int = 0) -> None:
        entry = self._engine.tasks.get(uid)
        if entry is None or not entry.status_queued:
            return  # written already (a gathered write sent early)
        now = self._clock()
        if attempt == 0:
            if entry.status_due > now + 0.001:
                return  # sent early meanwhile and queued again: its own job comes later
            held_until = entry.status_since + self._hold
            if not entry.status_urgent and held_until > now + 0.001 and _running(entry):
                entry.status_due = held_until  # the run's end brings it forward
                self._submit(uid, delay=held_until - now)
                return
        entry.status_queued = False
        entry.status_urgent = False
        if not self._engine.leading:
            return
        entry.status_writing = True
        try:
            retry = await self._patch(entry)
        except Exception as err:
            # A fault inside kron while recording this task: retried with backoff.
            self._faults.report(Stage.RECORD, where(entry.ref), err)
            entry.status_queued = entry.status_urgent = True
            self._submit(uid, attempt + 1, retry_delay(attempt + 1))
            return
        finally:
            entry.status_writing = False
        if retry:
            entry.status_queued = entry.status_urgent = True
            self._submit(uid, attempt + 1, self._backoff(attempt))
        elif entry.status_queued:
            # Changed while this write was in flight: at its due time (progress waits).
            self._submit(uid, delay=max(0.0, entry.status_due - self._clock()))

    async def _patch(self, entry: TaskEntry) -> bool:
        """Write the intended status; True when it should be retried."""
        version = entry.version
        patch = merge_patch(entry.persisted, entry.intended_api())
        if patch:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("status of %s/%s: %s", entry.ref.namespace, entry.ref.name, patch)
            # Fenced by resourceVersion: the patch applies only to the version of the
            # task this replica last saw. A replica that resumes after a pause, or any
            # other writer in between, turns it into a conflict, never an overwrite.
            body: dict[str, Any] = {"status": patch}
            if entry.rv is not None:
                body["metadata"] = {"resourceVersion": str(entry.rv)}
            try:
                obj = await self._api.patch_task_status(entry.ref.namespace, entry.ref.name, body)
            except ApiError as err:
                self._metrics.status_writes.labels("error").inc()
                if err.not_found or err.fenced:
                    return False
                if err.conflict:
                    await self._replan_from_server(entry)
                    return False
                if err.retryable:
                    return True
                self._faults.report(Stage.RECORD, where(entry.ref), err)
                return False
            self._metrics.status_writes.labels("ok").inc()
            # The response is the whole task: take it as an observation (a spec
            # change that raced with this write is picked up here, not lost).
            self._engine.observe_task("MODIFIED", obj)
        entry.written = max(entry.written, version)
        if entry.cleanup is not None and entry.cleanup[0] <= entry.written:
            _, deletes = entry.cleanup
            entry.cleanup = None
            self._release_cleanup(entry, deletes)
        return False

    async def _replan_from_server(self, entry: TaskEntry) -> None:
        """The task changed since this status was computed: drop what kron intended,
        read the task again, and plan it afresh from what the server has (the runs
        themselves still say which ticks fired)."""
        try:
            fresh = await self._api.get_task(entry.ref.namespace, entry.ref.name)
        except ApiError as err:
            log.debug("re-reading %s/%s: %s", entry.ref.namespace, entry.ref.name, err)
            self._engine.wake(entry.ref.uid, self._clock() + 1.0)
            return
        self._engine.observe_task("MODIFIED", fresh)
        current = self._engine.tasks.get(entry.ref.uid)
        if current is None:
            return
        current.reset_status()
        current.cleanup = None
        current.version += 1
        self._engine.wake(entry.ref.uid)


def _running(entry: TaskEntry) -> bool:
    """A run of the task is being created or still going."""
    return any(r.phase is RunPhase.ACTIVE and not r.deleting for r in entry.runs.values())
