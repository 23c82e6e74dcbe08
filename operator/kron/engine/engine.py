"""The central scheduler: one index, one timer heap, one dispatcher, one work pool.

kopf handlers (and the initial list) feed `observe_task` / `observe_run`; they
only update the in-memory index and wake the task. The dispatcher pops due tasks
from the timer heap, asks the pure planner what to do, and hands the actions to
the prioritized, rate-limited work pool. Status is written off the fire path,
coalesced per task; history cleanup waits for the status that records it.

Only the leader dispatches and writes. A standby keeps the same index from the
same watches, with the persisted status as its view, so it can take over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from kron.api import RunKind, ScheduledTaskSpec, field_errors
from kron.api.constants import GROUP, LABEL_TASK_UID
from kron.engine.events import EventRecorder
from kron.engine.executor import Executor, backoff
from kron.engine.index import TaskEntry, resource_version
from kron.engine.pool import Lane, WorkPool
from kron.engine.timers import Timers
from kron.k8s.api import ApiError, KubeApi, all_runs_path, task_path
from kron.k8s.runs import TaskRef, observe_run, parse_time, task_uid_of
from kron.metrics import Metrics
from kron.planner import (
    ObservedRun,
    Plan,
    Reason,
    RunPhase,
    TaskInput,
    invalid_plan,
    plan,
)
from kron.settings import Settings

log = logging.getLogger(__name__)

SCHEDULED_TRIGGERS = frozenset({"schedule", "catch-up", "retry"})
PLAN_BATCH = 16
"""Tasks planned per dispatcher turn before yielding to the workers. Small, so a
herd's first creates are on the wire while the rest is still being planned: with
256, a 1,000-task herd sent its first create only after ~1 s of planning."""
SYNC_BACKOFF_CAP = 15.0
HEARTBEAT_SECONDS = 5.0
"""The dispatcher turns at least this often, leading or standing by (liveness)."""


def shard_of(uid: str, count: int) -> int:
    return int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) % count


class Engine:
    def __init__(
        self,
        api: KubeApi,
        metrics: Metrics,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        self.tasks: dict[str, TaskEntry] = {}
        self._orphans: dict[str, dict[str, ObservedRun]] = {}
        weights = settings.weights
        self.timers = Timers(group=self._namespace_of, weights=weights)
        self.pool = WorkPool(
            workers=settings.workers,
            qps=settings.qps,
            burst=settings.burst,
            weights=weights,
            metrics=metrics,
        )
        self.events = EventRecorder(
            api,
            self.pool,
            metrics,
            identity=settings.identity,
            burst=settings.event_burst_per_task,
            refill_seconds=settings.event_refill_seconds,
            max_pending=settings.max_pending_events,
            clock=clock,
        )
        self.executor = Executor(
            self, api=api, pool=self.pool, metrics=metrics, events=self.events, clock=clock
        )
        self._nudge = asyncio.Event()
        self._leading = asyncio.Event()
        self.synced = False
        self.sync_error = ""
        """Why the last attempt to load the index failed (shown by /readyz)."""
        self.resumed_at = 0.0
        self.heartbeat = time.monotonic()

    # -- which tasks are ours --

    def _mine(self, uid: str, namespace: str | None) -> bool:
        if self.settings.namespaces and namespace not in self.settings.namespaces:
            return False
        return self.settings.shard_count == 1 or (
            shard_of(uid, self.settings.shard_count) == self.settings.shard_index
        )

    def _namespace_of(self, uid: str) -> str:
        entry = self.tasks.get(uid)
        return entry.ref.namespace if entry is not None else ""

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    # -- observations --

    def observe_task(self, event_type: str | None, obj: dict[str, Any]) -> None:
        """A ScheduledTask as listed or watched (or returned by a write)."""
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid or not self._mine(uid, meta.get("namespace")):
            return
        if event_type == "DELETED":
            self._forget(uid)
            return
        entry = self.tasks.get(uid)
        rv = resource_version(obj)
        if entry is not None and rv is not None and entry.rv is not None and rv <= entry.rv:
            return  # older than what a list or our own write already showed
        new = entry is None
        if entry is None:
            entry = TaskEntry(ref=TaskRef(meta.get("namespace", ""), meta.get("name", ""), uid))
            entry.runs = self._orphans.pop(uid, {})
            self.tasks[uid] = entry
        entry.rv = rv
        entry.set_persisted(obj.get("status") or {}, keep_intent=self.leading and not new)
        if new or not self.leading:
            entry.reset_status()
        entry.created = parse_time(meta.get("creationTimestamp")) or self.clock()
        if meta.get("deletionTimestamp"):
            entry.terminating = True
            self.timers.cancel(uid)
            return
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k.startswith(f"{GROUP}/")
        }
        generation = int(meta.get("generation") or 0)
        changed = new or generation != entry.generation or annotations != entry.annotations
        entry.annotations = annotations
        if new or generation != entry.generation:
            entry.generation = generation
            self._parse_spec(entry, obj.get("spec") or {})
        if changed:
            self.wake(uid)

    def _parse_spec(self, entry: TaskEntry, raw: dict[str, Any]) -> None:
        try:
            entry.set_spec(ScheduledTaskSpec.model_validate(raw), raw)
            entry.invalid = None
        except ValidationError as err:
            problems = field_errors(err)
            kinds = {p.type for p in problems}
            if "invalid_time_zone" in kinds:
                reason = Reason.INVALID_TIME_ZONE
            elif "invalid_schedule" in kinds:
                reason = Reason.INVALID_SCHEDULE
            else:
                reason = Reason.INVALID_SPEC
            message = "; ".join(f"spec.{p.path}: {p.message}" for p in problems)[:1000]
            entry.set_spec(None, raw)
            entry.invalid = (reason, message)

    def observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None:
        """A Job or Pod carrying a task's UID, as listed, watched or just created."""
        uid = task_uid_of(obj)
        if uid is None or not self._mine(uid, (obj.get("metadata") or {}).get("namespace")):
            return
        run = observe_run(kind, obj)
        if run is None:
            return
        entry = self.tasks.get(uid)
        runs = entry.runs if entry is not None else self._orphans.setdefault(uid, {})
        old = runs.get(run.name)
        if event_type == "DELETED":
            runs.pop(run.name, None)
            if entry is not None:
                entry.run_rvs.pop(run.name, None)
                entry.deleting.discard(run.name)
                if run.trigger in SCHEDULED_TRIGGERS:
                    entry.tombstone = max(entry.tombstone or run.nominal, run.nominal)
                if old is not None and old.phase is RunPhase.ACTIVE:
                    self.wake(uid)
            return
        rv = resource_version(obj)
        if entry is not None and rv is not None:
            known = entry.run_rvs.get(run.name)
            if known is not None and rv <= known:
                return
            entry.run_rvs[run.name] = rv
        runs[run.name] = run
        if entry is None:
            return
        finished = old is not None and old.phase is RunPhase.ACTIVE
        if self.leading and finished and run.phase is not RunPhase.ACTIVE:
            # Counted once, by the replica that acts on it (standbys see the same watch).
            self.metrics.runs_finished.labels(entry.ref.namespace, str(run.phase)).inc()
            if run.finished is not None and run.created is not None:
                self.metrics.run_duration.labels(str(run.phase)).observe(
                    max(0.0, run.finished - run.created)
                )
        if old is None or old.phase is not run.phase or old.deleting != run.deleting:
            self.wake(uid)

    def _forget(self, uid: str) -> None:
        self.tasks.pop(uid, None)
        self._orphans.pop(uid, None)
        self.timers.cancel(uid)
        self.events.forget(uid)

    # -- the initial list --

    async def sync(self) -> None:
        """Load the index, retrying until the API server answers.

        A replica may start before the API server is ready, before its CRD or its
        RoleBindings exist (one Helm release creates them together): it then stays
        alive and not ready, says why on /readyz and in its log, and keeps trying.
        """
        attempt = 0
        while True:
            try:
                await self._load()
            except ApiError as err:
                self.sync_error = f"listing failed: {err}"
                delay = backoff(attempt, base=0.5, cap=SYNC_BACKOFF_CAP)
                log.warning("could not load the index (retrying in %.1fs): %s", delay, err)
                self.tasks.clear()
                self._orphans.clear()
                self.heartbeat = time.monotonic()  # alive: retrying is progress
                await asyncio.sleep(delay)
                attempt += 1
                continue
            self.sync_error = ""
            self.synced = True
            self.metrics.synced.set(1)
            log.info("index loaded: %d tasks, %d runs", len(self.tasks), self.run_count())
            return

    async def _load(self) -> None:
        """Every run, then every task, before planning anything.

        Runs first: a run deleted before this list was only deleted after the
        status recording it was written, so the task list that follows shows it.
        """
        scopes: list[str | None] = list(self.settings.namespaces) or [None]
        for kind in (RunKind.JOB, RunKind.POD):
            for namespace in scopes:
                pages = self.api.list_pages(
                    all_runs_path(kind, namespace), label_selector=LABEL_TASK_UID
                )
                async for page in pages:
                    for item in page.items:
                        self.observe_run(kind, None, item)
        for namespace in scopes:
            async for page in self.api.list_pages(task_path(namespace)):
                for item in page.items:
                    self.observe_task(None, item)

    def run_count(self) -> int:
        return sum(len(e.runs) for e in self.tasks.values())

    # -- leadership --

    def lead(self) -> None:
        """Start dispatching: every task is planned now; ticks due before are a backlog."""
        now = self.clock()
        self.resumed_at = now
        for uid, entry in self.tasks.items():
            entry.reset_status()
            if not entry.terminating:
                self.timers.set(uid, now)
        self._leading.set()
        self._nudge.set()
        log.info("leading: dispatching %d tasks", len(self.tasks))

    def follow(self) -> None:
        """Stop dispatching and writing; fall back to the persisted view."""
        self._leading.clear()
        self.pool.clear()
        self.timers.clear()
        for entry in self.tasks.values():
            entry.reset_status()
            entry.runs = {n: r for n, r in entry.runs.items() if not r.in_flight}
            entry.failures.clear()
            entry.cleanup = None
            entry.status_queued = False
        log.info("standing by")

    def wake(self, uid: str, when: float | None = None) -> None:
        self.timers.set_earlier(uid, self.clock() if when is None else when)
        self._nudge.set()

    # -- the dispatcher --

    async def run(self) -> None:
        """Dispatch and execute until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pool.run())
            group.create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            if not self.leading:
                # A standby turns too (liveness reads the heartbeat), just idly.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._leading.wait(), timeout=HEARTBEAT_SECONDS)
                continue
            now = self.clock()
            due = self.timers.pop_due(now, PLAN_BATCH)
            # A full batch means more may be due (a herd): keep the workers on creates.
            self.pool.hold(len(due) == PLAN_BATCH)
            if due:
                for uid in due:
                    self._plan_task(uid, now)
                await asyncio.sleep(0)
                continue
            nxt = self.timers.next_time()
            self._nudge.clear()
            timeout = None if nxt is None else max(0.0, nxt - self.clock())
            # Wake at the next due time, on a nudge, or at least every heartbeat.
            if timeout is None or timeout > HEARTBEAT_SECONDS:
                timeout = HEARTBEAT_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), timeout=timeout)

    def _plan_task(self, uid: str, now: float) -> None:
        entry = self.tasks.get(uid)
        if entry is None or entry.terminating:
            return
        spec = entry.spec
        if spec is None:
            reason, message = entry.invalid or (Reason.INVALID_SPEC, "spec missing")
            self._apply(entry, invalid_plan(entry.status, entry.generation, reason, message, now))
            return
        started = time.perf_counter()
        result = plan(
            TaskInput(
                name=entry.ref.name,
                namespace=entry.ref.namespace,
                uid=uid,
                generation=entry.generation,
                created=entry.created,
                spec=spec,
                status=entry.status,
                annotations=entry.annotations,
                runs=tuple(entry.runs.values()),
                failures=tuple(entry.failures),
                resumed_at=self.resumed_at,
                tombstone=entry.tombstone,
            ),
            now,
        )
        self.metrics.plan_duration.observe(time.perf_counter() - started)
        entry.failures.clear()
        self._apply(entry, result)
        self.timers.set(uid, result.wake_at)

    def _apply(self, entry: TaskEntry, result: Plan) -> None:
        uid = entry.ref.uid
        for create in result.creates:
            entry.runs[create.name] = ObservedRun(
                name=create.name,
                kind=entry.kind,
                nominal=create.nominal,
                attempt=create.attempt,
                trigger=create.trigger,
                in_flight=True,
            )
            self.executor.create(uid, create)
        for delete in result.deletes:
            self.executor.delete(entry, delete, foreground=True, lane=Lane.DELETE)
        entry.status = result.status
        entry.version += 1
        if result.cleanup:
            entry.cleanup = (entry.version, result.cleanup)
        self.executor.status_dirty(entry)
        for event in result.events:
            self.events.record(entry.ref, event)
        ns = entry.ref.namespace
        for (field, reason), n in result.tallies.items():
            if n <= 0:
                continue
            if field == "missed":
                self.metrics.missed.labels(ns, reason).inc(n)
            elif field in ("skipped", "excluded"):
                self.metrics.skipped.labels(ns, reason).inc(n)

    # -- gauges --

    def refresh_gauges(self) -> None:
        states: dict[str, int] = {}
        active = 0
        for entry in self.tasks.values():
            state = entry.ready_reason
            states[state] = states.get(state, 0) + 1
            active += sum(1 for r in entry.runs.values() if r.phase is RunPhase.ACTIVE)
        self.metrics.tasks.clear()
        for state, n in states.items():
            self.metrics.tasks.labels(state).set(n)
        self.metrics.active_runs.set(active)
        self.metrics.queue_depth.labels("due").set(self.timers.count_due(self.clock()))
        self.pool.refresh_gauges()
