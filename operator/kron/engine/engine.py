"""The central scheduler: one index, one timer heap, one dispatcher, one work pool.

kopf's handlers feed `observe_task` (ScheduledTasks), kron's own run watches
(`kron.engine.runwatch`) feed `observe_run`, and the initial list both; they only
update the in-memory index and wake the task. The dispatcher pops due tasks
from the timer heap, asks the pure planner what to do, and hands the actions to
the prioritized, rate-limited work pool. Status is written off the fire path,
coalesced per task; history cleanup waits for the status that records it.

Only the leader dispatches and writes. A standby keeps the same index from the
same watches, with the persisted status as its view, so it can take over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from kron.api import RunKind
from kron.engine import gauges
from kron.engine.calendars import CalendarIndex
from kron.engine.events import EventRecorder
from kron.engine.executor import Executor, backoff
from kron.engine.faults import Faults, Stage, retry_delay
from kron.engine.index import TaskEntry
from kron.engine.observing import TaskIndex, where
from kron.engine.planning import TaskPlanning
from kron.engine.pool import WorkPool
from kron.engine.runwatch import RunWatches
from kron.engine.takeover import Takeover
from kron.engine.timers import Timers
from kron.k8s.api import ApiError, KubeApi, calendar_path, task_path
from kron.metrics import Metrics
from kron.planner import internal_error_plan
from kron.settings import Settings

log = logging.getLogger(__name__)

PLAN_BATCH = 16
"""Tasks planned per dispatcher turn before yielding to the workers. Small, so a
herd's first creates are on the wire while the rest is still being planned: with
256, a 1,000-task herd sent its first create only after ~1 s of planning."""
TURN_BUDGET = 0.05
"""Seconds of planning per dispatcher turn, whatever the batch: the event loop also
renews the Lease and sends the runs, so no turn may hold it for long."""
REPLAN_AFTER = 0.001
"""A task planned this turn is due again no earlier than the next turn."""
SYNC_BACKOFF_CAP = 15.0
HEARTBEAT_SECONDS = 5.0
"""The dispatcher turns at least this often, leading or standing by (liveness)."""


class Engine:
    def __init__(
        self,
        api: KubeApi,
        metrics: Metrics,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        watch_api: KubeApi | None = None,
    ) -> None:
        """`watch_api`: the connection the runs' watches hold open (its own pool, so
        that long-lived watches never take a connection the creates need)."""
        self.api = api
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        self.faults = Faults(metrics)
        self.calendars = CalendarIndex(self)
        self.index = TaskIndex(self)
        self.tasks: dict[str, TaskEntry] = self.index.tasks
        self.run_watches = RunWatches(watch_api or api, self.index, settings)
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
            routine=settings.routine_events,
        )
        self.executor = Executor(
            self,
            api=api,
            pool=self.pool,
            metrics=metrics,
            events=self.events,
            faults=self.faults,
            clock=clock,
            status_interval=settings.status_interval,
        )
        self.planning = TaskPlanning(
            index=self.index,
            calendars=self.calendars,
            events=self.events,
            executor=self.executor,
            metrics=metrics,
        )
        self._nudge = asyncio.Event()
        self._leading = asyncio.Event()
        self.synced = False
        self.sync_error = ""
        """Why the last attempt to load the index failed (shown by /readyz)."""
        self.resumed_at = 0.0
        self._takeover = Takeover()
        self.heartbeat = time.monotonic()

    # -- which tasks are ours --

    def _namespace_of(self, uid: str) -> str:
        entry = self.tasks.get(uid)
        return entry.ref.namespace if entry is not None else ""

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    # -- observations --

    def observe_task(
        self, event_type: str | None, obj: dict[str, Any], *, known_only: bool = False
    ) -> None:
        """A ScheduledTask as listed or watched (`known_only`: returned by a write)."""
        self.index.observe_task(event_type, obj, known_only=known_only)

    def observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None:
        """A Job or Pod carrying kron's label, as listed, watched or just created."""
        self.index.observe_run(kind, event_type, obj)

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
                self.index.orphans.clear()
                self.calendars.clear()
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
        """Every run, then every calendar and task, before planning anything.

        Runs first: a run deleted before this list was only deleted after the
        status recording it was written, so the task list that follows shows it.
        The runs' listing is their watches' own, so the watches go on from it.
        """
        await self.run_watches.list()
        self.heartbeat = time.monotonic()
        scopes: list[str | None] = list(self.settings.namespaces) or [None]
        for namespace in scopes:
            async for page in self.api.list_pages(calendar_path(namespace)):
                for item in page.items:
                    self.calendars.observe(None, item)
                self.heartbeat = time.monotonic()
            async for page in self.api.list_pages(task_path(namespace)):
                for item in page.items:
                    self.observe_task(None, item)
                # Alive: at 100,000 tasks the load outlasts the liveness window.
                self.heartbeat = time.monotonic()
        self.index.orphans.loaded()

    def run_count(self) -> int:
        return sum(len(e.runs) for e in self.tasks.values())

    # -- leadership --

    def lead(self) -> None:
        """Start dispatching: every task that may have work now is planned now, the
        others at their next fire time (`takeover`); ticks due before are a backlog.

        Deciding that reads each task's persisted status: at 100,000 tasks seconds of
        work, done by the dispatcher a turn's budget at a time (`Takeover`) so the
        event loop keeps renewing the Lease meanwhile. A standby's index already
        intends what the server has, so nothing else is redone here.
        """
        self.resumed_at = self.clock()
        self.timers.clear()  # what a standby woke is looked at again, below
        self._takeover.start(self.tasks)
        self._leading.set()
        self._nudge.set()
        log.info("leading: dispatching %d tasks", len(self.tasks))

    def follow(self) -> None:
        """Stop dispatching and writing; fall back to the persisted view."""
        self._leading.clear()
        self.pool.clear()
        self.timers.clear()
        self._takeover.clear()
        for entry in self.tasks.values():
            if entry.has_intent:  # what it had not written yet (decoding all is slow)
                entry.reset_status()
            entry.runs = {n: r for n, r in entry.runs.items() if not r.in_flight}
            entry.failures.clear()
            entry.cleanup = None
            entry.status_queued = False
            entry.deleting.clear()
        log.info("standing by")

    async def flush(self) -> None:
        """Send the gathered status writes now and wait for them (callers bound the
        wait): a leader stepping down leaves its successor little to rebuild."""
        if not self.leading:
            return
        # Those gathered for later are brought forward; those already due or on the
        # wire are waited for all the same.
        self.executor.flush_statuses()
        # Polled: nothing marks the last of many tasks' writes.
        while any(e.status_queued or e.status_writing for e in self.tasks.values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    def wake(self, uid: str, when: float | None = None) -> None:
        self.timers.set_earlier(uid, self.clock() if when is None else when)
        self._nudge.set()

    def calendar_changed(self, uid: str) -> None:
        """Its persisted status cannot show this: a standby marks the task so that
        taking over plans it at once (`takeover.first_plan_at`)."""
        entry = self.tasks.get(uid)
        if entry is not None:
            entry.calendars_changed = True
        self.wake(uid)

    # -- the dispatcher --

    async def run(self) -> None:
        """Dispatch and execute until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pool.run())
            group.create_task(self._dispatch())
            group.create_task(self.run_watches.run())

    async def _dispatch(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            if not self.leading:
                # A standby turns too (liveness reads the heartbeat), just idly.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._leading.wait(), timeout=HEARTBEAT_SECONDS)
                continue
            if self.turn(self.clock()):
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

    def turn(self, now: float) -> bool:
        """One turn of the dispatcher: a budget of takeover (after `lead`), then of due
        plans; True while more is to do at once."""
        more = (
            self._takeover.step(self.tasks, self.timers, now, TURN_BUDGET)
            if self._takeover
            else False
        )
        return self._plan_due(now) or more

    def _plan_due(self, now: float) -> bool:
        """Plan up to PLAN_BATCH due tasks, within TURN_BUDGET; True if any was due."""
        started = time.perf_counter()
        planned = 0
        while planned < PLAN_BATCH and time.perf_counter() - started < TURN_BUDGET:
            due = self.timers.pop_due(now, 1)
            if not due:
                break
            self._plan_task(due[0], now)
            planned += 1
        # More due after this turn (a herd): keep the workers on creates meanwhile.
        nxt = self.timers.next_time()
        self.pool.hold(planned > 0 and nxt is not None and nxt <= now)
        return planned > 0

    def _plan_task(self, uid: str, now: float) -> None:
        """Plan one task inside its fault boundary: whatever fails stays with it."""
        entry = self.tasks.get(uid)
        if entry is None or entry.terminating:
            return
        try:
            wake = self.planning.plan(entry, now, self.resumed_at)
        except Exception as err:
            wake = self._plan_failed(entry, Stage.PLAN, err, now)
        else:
            entry.fault_streak = 0
        # Never twice in one turn: a task that asks to be planned again at once (more
        # catch-up or backfill to start) comes after every other task due now.
        self.timers.set(uid, None if wake is None else max(wake, now + REPLAN_AFTER))

    def _plan_failed(self, entry: TaskEntry, stage: Stage, err: Exception, now: float) -> float:
        """Report the fault on the task and retry it later, with capped backoff."""
        message = self.faults.report(stage, where(entry.ref), err)
        entry.fault_streak += 1
        try:
            self.planning.apply(
                entry, internal_error_plan(entry.status, entry.generation, message, now)
            )
        except Exception as again:
            self.faults.report(Stage.RECORD, where(entry.ref), again)
        return now + retry_delay(entry.fault_streak)

    # -- gauges --

    def refresh_gauges(self) -> None:
        gauges.refresh(self.metrics, self.tasks.values(), self.timers, self.pool, self.clock())
