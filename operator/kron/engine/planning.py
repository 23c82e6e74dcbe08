"""Planning one task and applying the plan: the step between the dispatcher and the pool.

The dispatcher (`kron.engine.engine`) pops a due task and calls `plan` inside the
task's fault boundary; `plan` hands the task's spec, status, runs and calendars to the
pure planner (`kron.planner.plan`) within a time budget, and `apply` turns the result
into work: runs to create and delete, the status to write (at once or gathered),
Events, and the missed and skipped counts.
"""

from __future__ import annotations

import json
import time

from kron.engine.calendars import CalendarIndex
from kron.engine.events import EventRecorder
from kron.engine.executor import Executor
from kron.engine.faults import retry_delay
from kron.engine.index import TaskEntry
from kron.engine.intake import reserved_event
from kron.engine.observing import TaskIndex
from kron.engine.pool import Lane
from kron.metrics import Metrics
from kron.planner import ObservedRun, Plan, Reason, TaskInput, invalid_plan, plan
from kron.planner.budget import Budget
from kron.planner.statuses import changes_at_once

PLAN_BUDGET = 0.05
"""Seconds one task's plan may take before its longer work stops for this pass
(counts become lower bounds, a backfill continues on the next pass)."""


class TaskPlanning:
    def __init__(
        self,
        *,
        index: TaskIndex,
        calendars: CalendarIndex,
        events: EventRecorder,
        executor: Executor,
        metrics: Metrics,
    ) -> None:
        self._index = index
        self._calendars = calendars
        self._events = events
        self._executor = executor
        self._metrics = metrics

    def plan(self, entry: TaskEntry, now: float, resumed_at: float) -> float | None:
        """Plan `entry` now; returns when to plan it next. `resumed_at`: when this
        replica began to lead (ticks due before are a backlog)."""
        entry.calendars_changed = False  # this plan reads the calendars as they are
        if entry.raw_spec is not None:  # reading the spec failed inside kron: again
            self._index.read_spec(entry, json.loads(entry.raw_spec))
        if entry.invalid is not None and entry.invalid[0] == Reason.INTERNAL_ERROR:
            raise RuntimeError(entry.invalid[1])
        spec = entry.spec
        if spec is None:
            reason, message = entry.invalid or (Reason.INVALID_SPEC, "spec missing")
            self.apply(entry, invalid_plan(entry.status, entry.generation, reason, message, now))
            return None
        if entry.reserved:
            self._events.record(entry.ref, reserved_event(entry.reserved))
            entry.reserved = None
        # A task whose last passes failed inside kron could not fire meanwhile: the
        # ticks due since are a backlog for its catchUpPolicy, as after downtime.
        resumed_at = now if entry.fault_streak else resumed_at
        look_ahead = entry.defer_streak == 0 or now >= entry.look_ahead_at
        started = time.perf_counter()
        budget = Budget(expired=lambda: time.perf_counter() - started > PLAN_BUDGET)
        before = entry.status
        result = plan(
            TaskInput(
                name=entry.ref.name,
                namespace=entry.ref.namespace,
                uid=entry.ref.uid,
                generation=entry.generation,
                created=entry.created,
                spec=spec,
                status=before,
                annotations=entry.annotations,
                runs=tuple(entry.runs.values()),
                failures=tuple(entry.failures),
                resumed_at=resumed_at,
                tombstone=entry.tombstone,
                calendars=self._calendars.view(entry.ref.namespace, spec.calendar_names),
                look_ahead=look_ahead,
            ),
            now,
            budget,
        )
        self._metrics.plan_duration.observe(time.perf_counter() - started)
        if budget.exhausted:
            self._metrics.plan_budget_exhausted.inc()
        entry.failures.clear()
        self.apply(entry, result, at_once=changes_at_once(before, result.status))
        if look_ahead:
            # Work cut short by the budget again and again (a look-ahead that
            # exclusions make expensive every time) backs off, as faults do, so one
            # task takes only a sliver of the dispatcher; its ticks fire regardless.
            entry.defer_streak = entry.defer_streak + 1 if result.deferred else 0
            entry.look_ahead_at = now + retry_delay(entry.defer_streak)
        return result.wake_at

    def apply(self, entry: TaskEntry, result: Plan, *, at_once: bool = True) -> None:
        uid = entry.ref.uid
        for create in result.creates:
            entry.runs[create.name] = ObservedRun(
                name=create.name,
                kind=entry.kind,
                nominal=create.nominal,
                attempt=create.attempt,
                trigger=create.trigger,
                in_flight=True,
                scheduled_run=create.scheduled_run,
            )
            self._executor.create(uid, create)
        for delete in result.deletes:
            self._executor.delete(entry, delete, foreground=True, lane=Lane.DELETE)
        entry.status = result.status
        entry.version += 1
        if result.cleanup:
            entry.cleanup = (entry.version, result.cleanup)
        self._executor.status_dirty(entry, at_once=at_once)
        for event in result.events:
            self._events.record(entry.ref, event)
        ns = entry.ref.namespace
        for (field, reason), n in result.tallies.items():
            if n <= 0:
                continue
            if field == "missed":
                self._metrics.missed.labels(ns, reason).inc(n)
            elif field in ("skipped", "excluded"):
                self._metrics.skipped.labels(ns, reason).inc(n)
