"""One planning pass: the mutable working state shared by the planner's steps.

`plan()` builds a `Pass` from a `TaskInput`, runs its steps (outcomes, requests,
ticks, pending work, cleanup) over it, and turns it into a `Plan`. The helpers
here are the vocabulary those steps share: record a history entry, count, emit an
event, and admit a new run through the task's concurrency policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kron.api import (
    CatchUpPolicy,
    ConcurrencyPolicy,
    ConditionStatus,
    HistoryEntry,
    PendingReason,
    PendingRun,
    RunKind,
    RunResult,
    ScheduledTaskSpec,
    ScheduledTaskStatus,
    Trigger,
)
from kron.api.constants import MAX_ACTIVE_RUNS, MAX_HISTORY
from kron.planner.budget import Budget
from kron.planner.conditions import DEGRADED, set_condition
from kron.planner.records import (
    COUNTED_TRIGGERS,
    CreateRun,
    DeleteReason,
    DeleteRun,
    EventType,
    ObservedRun,
    Plan,
    TaskEvent,
    TaskInput,
)
from kron.planner.timeutil import rfc3339, to_int_seconds, to_time
from kron.schedule import Timeline


@dataclass(slots=True)
class Pass:
    task: TaskInput
    now: float
    timeline: Timeline
    status: ScheduledTaskStatus
    plan: Plan
    cursor: int
    budget: Budget = field(default_factory=Budget)
    """Work this pass may still do (ticks examined, and time)."""
    runs: dict[str, ObservedRun] = field(default_factory=dict)
    active: dict[str, ObservedRun] = field(default_factory=dict)
    """Runs that count as running: unfinished, not being deleted, or created in this pass."""
    unplanned: str | None = None
    """Set when the task could not be planned until now (its Calendar was missing or
    invalid: that Ready reason): the ticks due meanwhile are counted missed."""
    overdue_at: float | None = None
    """When the task becomes overdue, if that is still to come (a wake time)."""

    @property
    def spec(self) -> ScheduledTaskSpec:
        return self.task.spec

    @property
    def kind(self) -> RunKind:
        return self.task.spec.kind

    # -- recording ---------------------------------------------------------

    def count(self, field: str, reason: str, n: int = 1) -> None:
        """Add to `status.counts.<field>` and tally it by reason for metrics."""
        counts = self.status.counts
        setattr(counts, field, getattr(counts, field) + n)
        key = (field, reason)
        self.plan.tallies[key] = self.plan.tallies.get(key, 0) + n

    def event(self, type_: EventType, reason: str, message: str) -> None:
        self.plan.events.append(TaskEvent(type_, reason, message))

    def history(
        self,
        result: RunResult,
        nominal: int,
        *,
        trigger: Trigger,
        name: str | None = None,
        attempt: int = 0,
        started: float | None = None,
        finished: float | None = None,
        message: str = "",
    ) -> None:
        entry = HistoryEntry(
            scheduled_time=to_time(nominal),
            name=name,
            attempt=attempt,
            trigger=trigger,
            result=result,
            start_time=to_time(started) if started is not None else None,
            completion_time=to_time(finished) if finished is not None else None,
            message=message or None,
        )
        self.status.history.insert(0, entry)
        del self.status.history[MAX_HISTORY:]

    def record_run(
        self, result: RunResult, run: ObservedRun, *, finished: float | None, message: str
    ) -> None:
        """A history entry for a run that ended (or was ended)."""
        self.history(
            result,
            run.nominal,
            trigger=run.trigger,
            name=run.name,
            attempt=run.attempt,
            started=run.started,
            finished=finished,
            message=message,
        )

    def degraded(self, value: ConditionStatus, reason: str, message: str) -> None:
        set_condition(
            self.status,
            DEGRADED,
            value,
            reason,
            message,
            now=to_time(self.now),
            generation=self.task.generation,
        )

    # -- starting runs -------------------------------------------------------

    def create(
        self,
        name: str,
        nominal: int,
        *,
        attempt: int,
        trigger: Trigger,
        fire_at: float,
        expires_at: float | None,
    ) -> bool:
        """Start a run (False: MAX_ACTIVE_RUNS of this task are active; skipped).

        A run maxRuns counts gets its number in the count (`scheduled_run`)."""
        if self.at_capacity:
            self.count("skipped", "TooManyActive")
            self.history(
                RunResult.SKIPPED,
                nominal,
                trigger=trigger,
                attempt=attempt,
                message=f"{MAX_ACTIVE_RUNS} runs of this task are active already",
            )
            return False
        number = None
        if self.spec.max_runs is not None and attempt == 0 and trigger in COUNTED_TRIGGERS:
            number = self.scheduled_runs_used() + 1
        self.plan.creates.append(
            CreateRun(name, nominal, attempt, trigger, fire_at, expires_at, scheduled_run=number)
        )
        self.active[name] = ObservedRun(
            name=name,
            kind=self.kind,
            nominal=nominal,
            attempt=attempt,
            trigger=trigger,
            in_flight=True,
            scheduled_run=number,
        )
        self.count("fired", str(trigger))
        if attempt > 0:
            self.count("retried", str(trigger))
        return True

    def scheduled_runs_used(self) -> int:
        """Scheduled runs started, for maxRuns (`kron.planner.runlimit` explains): those
        counted in the status, plus the runs after its count's end not counted yet (in
        flight, confirmed after one in flight, created in this pass), and at least the
        highest number any such run carries (a run counted by a status that was lost
        and then deleted by Replace is known from the number of the run after it)."""
        through = self.status.scheduled_runs_through
        counted = self.status.scheduled_runs or 0
        if through is None:
            return counted
        after = to_int_seconds(through)
        runs = [
            r
            for r in (*self.task.runs, *self.active.values())
            if r.trigger in COUNTED_TRIGGERS and r.attempt == 0 and r.nominal > after
        ]
        numbered = max((r.scheduled_run or 0 for r in runs), default=0)
        return max(counted + len({r.nominal for r in runs}), numbered)

    @property
    def at_capacity(self) -> bool:
        """MAX_ACTIVE_RUNS runs of the task are active (or being created)."""
        return len(self.active) >= MAX_ACTIVE_RUNS

    def admit(
        self,
        name: str,
        nominal: int,
        *,
        trigger: Trigger,
        fire_at: float,
        expires_at: float | None,
        force: bool = False,
    ) -> bool:
        """Start a new run (attempt 0) under the concurrency policy.

        Returns False when the policy held it back (skipped or queued).
        """
        policy = self.spec.concurrency_policy
        if force or policy is ConcurrencyPolicy.ALLOW or not self.active:
            return self.create(
                name, nominal, attempt=0, trigger=trigger, fire_at=fire_at, expires_at=expires_at
            )
        if policy is ConcurrencyPolicy.FORBID:
            self.skip(nominal, trigger, f"run {', '.join(sorted(self.active))} still active")
            return False
        if policy is ConcurrencyPolicy.REPLACE:
            self.replace_active(by=name)
            self.create(
                name, nominal, attempt=0, trigger=trigger, fire_at=fire_at, expires_at=expires_at
            )
            return True
        self.enqueue(name, nominal, trigger=trigger, fire_at=fire_at)
        return False

    def skip(self, nominal: int, trigger: Trigger, why: str) -> None:
        self.count("skipped", "Forbid")
        self.history(RunResult.SKIPPED, nominal, trigger=trigger, message=f"Forbid: {why}")
        self.event(
            EventType.NORMAL,
            "Skipped",
            f"Skipped the tick of {rfc3339(nominal)}: concurrencyPolicy Forbid and {why}",
        )

    def replace_active(self, *, by: str) -> None:
        for run in sorted(self.active.values(), key=lambda r: r.nominal):
            unsent = next((c for c in self.plan.creates if c.name == run.name), None)
            if unsent is not None:
                # Decided in this very pass: simply never create it.
                self.plan.creates.remove(unsent)
                self.count("fired", str(run.trigger), -1)
                self.count("skipped", "Replaced")
                self.history(
                    RunResult.SKIPPED, run.nominal, trigger=run.trigger, message=f"replaced by {by}"
                )
                del self.active[run.name]
                continue
            if run.in_flight:
                # Sent in an earlier pass, not confirmed yet: it cannot be deleted
                # before it exists, so it is left to run alongside.
                continue
            self.plan.deletes.append(DeleteRun(run.name, run.kind, run.uid, DeleteReason.REPLACED))
            self.count("failed", "Replaced")
            self.record_run(RunResult.FAILED, run, finished=self.now, message=f"replaced by {by}")
            self.event(
                EventType.NORMAL, "Replaced", f"Deleted active run {run.name}: replaced by {by}"
            )
            del self.active[run.name]

    def enqueue(self, name: str, nominal: int, *, trigger: Trigger, fire_at: float) -> None:
        queued = [p for p in self.status.pending if p.reason is PendingReason.QUEUED]
        for old in queued:
            self.status.pending.remove(old)
            self.count("skipped", "QueueFull")
            self.history(
                RunResult.SKIPPED,
                int(old.scheduled_time.timestamp()),
                trigger=old.trigger,
                message=f"Queue: superseded by the tick of {rfc3339(nominal)}",
            )
        deadline = self.spec.starting_deadline_seconds
        self.status.pending.append(
            PendingRun(
                name=name,
                scheduled_time=to_time(nominal),
                attempt=0,
                not_before=to_time(fire_at),
                not_after=to_time(fire_at + deadline) if deadline is not None else None,
                trigger=trigger,
                reason=PendingReason.QUEUED,
            )
        )

    # -- deadlines -----------------------------------------------------------

    def expiry(self, fire_at: float, trigger: Trigger) -> float | None:
        """Until when the executor keeps retrying the create of a tick's run.

        `startingDeadlineSeconds` counts from the fire time (nominal + jitter):
        jitter is a delay the task asked for, not lateness.
        """
        deadline = self.spec.starting_deadline_seconds
        if deadline is not None:
            return fire_at + deadline
        if (
            trigger in (Trigger.SCHEDULE, Trigger.CATCH_UP)
            and self.spec.catch_up_policy is not CatchUpPolicy.ALL
        ):
            # Superseded by the next tick: under Latest/None a stale create is missed.
            nxt = self.timeline.next_tick(math.floor(fire_at))
            return nxt.fire_at if nxt is not None else None
        return None

    @property
    def now_int(self) -> int:
        return math.floor(self.now)
