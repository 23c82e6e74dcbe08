"""`plan()`: from what is known about one task, decide what to do now.

Pure: no I/O and no clock reads (`now` is an argument). The engine calls it
whenever something about the task changed or its wake time came, executes the
returned actions and writes the returned status. A plan never creates a run whose
name is among the observed runs and never revisits a tick at or before the
cursor, which is what makes restarts and a second replica safe: the cursor is
rebuilt from the runs themselves, and run names are the idempotency keys.
"""

from __future__ import annotations

import hashlib
import json
import math

from kron.api import (
    ActiveRun,
    ConcurrencyPolicy,
    ConditionStatus,
    PendingReason,
    PendingRun,
    RunResult,
    ScheduledTaskSpec,
    Trigger,
)
from kron.api.constants import MAX_UPCOMING
from kron.planner import outcomes, requests
from kron.planner.budget import Budget
from kron.planner.conditions import (
    DEGRADED,
    READY,
    STALLED,
    Reason,
    get_condition,
    ready_reason,
    set_condition,
)
from kron.planner.context import Pass
from kron.planner.due import skip_held_backlog, start_due
from kron.planner.records import (
    DeleteReason,
    DeleteRun,
    EventType,
    Plan,
    RunPhase,
    TaskInput,
)
from kron.planner.statuses import bound_status, copy_status
from kron.planner.timeutil import rfc3339, to_int_seconds, to_time
from kron.planner.unplannable import error_reason, invalid_plan
from kron.schedule import ScheduleError, Timeline, compile_timeline, run_name

SCHEDULED_TRIGGERS = frozenset({Trigger.SCHEDULE, Trigger.CATCH_UP, Trigger.RETRY})
"""Runs whose nominal time belongs to the schedule's own stream (the cursor)."""
HELD_REASONS = frozenset({Reason.SUSPENDED, Reason.TOO_MANY_FAILURES})
DEFER_SECONDS = 1.0
"""Pause before a pass continues work its predecessor's budget cut short."""
INVALID_REASONS = frozenset(
    {Reason.INVALID_SCHEDULE, Reason.INVALID_TIME_ZONE, Reason.INVALID_SPEC}
)


def schedule_fingerprint(spec: ScheduledTaskSpec) -> str:
    """A digest of the fields that define the fire times; a change re-plans from now."""
    fields = {
        "schedules": spec.expressions,
        "timeZone": spec.time_zone,
        "startTime": spec.start_time.isoformat() if spec.start_time else None,
        "endTime": spec.end_time.isoformat() if spec.end_time else None,
        "exclude": list(spec.exclude_schedules or ()),
        "jitter": spec.jitter_seconds,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def timeline_for(spec: ScheduledTaskSpec, uid: str) -> Timeline:
    """The task's fire times; raises ScheduleError / TimeZoneError."""
    return compile_timeline(
        schedules=spec.expressions,
        time_zone=spec.time_zone,
        start=math.ceil(spec.start_time.timestamp()) if spec.start_time else None,
        end=math.floor(spec.end_time.timestamp()) if spec.end_time else None,
        exclude=spec.exclude_schedules or (),
        jitter_seconds=spec.jitter_seconds,
        jitter_seed=uid,
    )


def plan(task: TaskInput, now: float, budget: Budget | None = None) -> Plan:
    """Decide what to do for `task` at `now`, within `budget` (default: PASS_STEPS)."""
    try:
        timeline = timeline_for(task.spec, task.uid)
    except ScheduleError as err:
        return invalid_plan(task.status, task.generation, error_reason(err), str(err), now)

    status = copy_status(task.status)
    p = Pass(
        task=task,
        now=now,
        timeline=timeline,
        status=status,
        plan=Plan(status=status),
        cursor=0,
        budget=budget or Budget(),
    )
    p.runs = {run.name: run for run in task.runs}
    p.active = {
        run.name: run for run in task.runs if run.phase is RunPhase.ACTIVE and not run.deleting
    }
    was_held = ready_reason(task.status) in HELD_REASONS
    _observe_spec(p)
    last_tick = _last_tick(p)
    # Ticks nominally at or before the second the schedule appeared (the task's
    # creation, or the edit) never fire; creationTimestamp has whole seconds, so a
    # tick in that same second could otherwise fire before the task existed (CronJob
    # too only fires ticks strictly after creationTimestamp).
    # Ticks before 1970 never fire either: run names carry Unix seconds.
    changed = status.schedule_changed_time
    floor = max(to_int_seconds(changed), -1) if changed is not None else -1
    p.cursor = max(floor, last_tick if last_tick is not None else floor)

    recorded = outcomes.absorb_create_failures(p)
    outcomes.absorb_finished(p, recorded)
    requests.handle_resume(p)

    held = _held(p)
    if held is None:
        if was_held:
            skip_held_backlog(p)
        start_due(p)
        _pending(p)
    else:
        _drop_queued(p, held)
    if p.cursor > floor or last_tick is not None:
        status.last_schedule_time = to_time(p.cursor)
    requests.handle_run_now(p)
    requests.handle_backfill(p)
    _cleanup(p)
    _finish(p, held)
    bound_status(status)
    return p.plan


# -- the steps of a pass, in order -------------------------------------------------


def _observe_spec(p: Pass) -> None:
    """Notice schedule edits (no backlog from before them) and spec changes."""
    status, task = p.status, p.task
    fingerprint = schedule_fingerprint(task.spec)
    if status.schedule_hash != fingerprint:
        first = status.schedule_hash is None
        status.schedule_hash = fingerprint
        # A new task may have been created while the operator was down: its own
        # creation is the floor. An edited one never fires ticks from before the edit.
        status.schedule_changed_time = to_time(task.created if first else p.now)
        if not first:
            _drop_queued(p, "the schedule changed")
    if ready_reason(status) in INVALID_REASONS:
        # The change that made the task valid again is an edit like any other: no
        # tick at or before it fires (a per-second task fixed a day after it was
        # created must not start 86,400 runs).
        status.schedule_changed_time = to_time(p.now)
    if status.observed_generation != task.generation:
        if ready_reason(status) == Reason.TOO_MANY_FAILURES:
            status.consecutive_failures = 0
            p.event(EventType.NORMAL, "Resumed", "Failure streak cleared by a spec change")
        status.observed_generation = task.generation


def _last_tick(p: Pass) -> int | None:
    """Nominal time of the newest tick of the schedule's stream known handled."""
    candidates = [run.nominal for run in p.task.runs if run.trigger in SCHEDULED_TRIGGERS]
    if p.status.last_schedule_time is not None:
        candidates.append(to_int_seconds(p.status.last_schedule_time))
    if p.task.tombstone is not None:
        candidates.append(p.task.tombstone)
    return max(candidates) if candidates else None


def _held(p: Pass) -> str | None:
    if p.spec.suspend:
        return Reason.SUSPENDED
    limit = p.spec.suspend_after_failures
    if limit is not None and p.status.consecutive_failures >= limit:
        return Reason.TOO_MANY_FAILURES
    return None


def _pending(p: Pass) -> None:
    """Start queued ticks and retries whose time came; drop those past their limit."""
    for entry in sorted(p.status.pending, key=lambda e: _not_before(e, p.now)):
        nominal = to_int_seconds(entry.scheduled_time)
        if entry.not_after is not None and p.now > entry.not_after.timestamp():
            p.status.pending.remove(entry)
            if entry.reason is PendingReason.RETRY:
                outcomes.final_failure(
                    p,
                    run_name(p.task.name, nominal, entry.attempt - 1),
                    f"retry {entry.attempt} dropped: the next scheduled tick came first",
                    at=p.now,
                )
            else:
                p.count("missed", "Deadline")
                p.history(
                    RunResult.MISSED,
                    nominal,
                    trigger=entry.trigger,
                    message="queued past startingDeadlineSeconds",
                )
                p.event(EventType.WARNING, "Missed", f"Queued tick of {rfc3339(nominal)} expired")
            continue
        if p.now < _not_before(entry, p.now):
            continue
        waits_for_active = entry.reason is PendingReason.QUEUED or p.spec.concurrency_policy in (
            ConcurrencyPolicy.FORBID,
            ConcurrencyPolicy.QUEUE,
        )
        if (waits_for_active and p.active) or p.at_capacity:
            continue
        p.status.pending.remove(entry)
        attempt = entry.attempt if entry.reason is PendingReason.RETRY else 0
        name = entry.name or run_name(p.task.name, nominal, attempt)
        if name in p.runs:
            continue
        p.create(
            name,
            nominal,
            attempt=attempt,
            trigger=entry.trigger,
            fire_at=_not_before(entry, p.now),
            expires_at=entry.not_after.timestamp() if entry.not_after else None,
        )


def _not_before(entry: PendingRun, now: float) -> float:
    return entry.not_before.timestamp() if entry.not_before is not None else now


def _drop_queued(p: Pass, why: str) -> None:
    for entry in [e for e in p.status.pending if e.reason is PendingReason.QUEUED]:
        p.status.pending.remove(entry)
        p.count("skipped", "Dropped")
        p.history(
            RunResult.SKIPPED,
            to_int_seconds(entry.scheduled_time),
            trigger=entry.trigger,
            message=f"queued tick dropped: {why}",
        )


def _cleanup(p: Pass) -> None:
    """Finished runs beyond the history limits, oldest first, deleted once the status
    recording them is persisted (the engine holds `cleanup` until then)."""
    finished = [
        run
        for run in p.task.runs
        if run.phase is not RunPhase.ACTIVE and not run.deleting and not run.in_flight and run.uid
    ]
    for phase, keep in (
        (RunPhase.SUCCEEDED, p.spec.successful_runs_history_limit),
        (RunPhase.FAILED, p.spec.failed_runs_history_limit),
    ):
        runs = sorted(
            (r for r in finished if r.phase is phase),
            key=lambda r: (r.finished or 0.0, r.nominal, r.attempt),
            reverse=True,
        )
        p.plan.cleanup.extend(
            DeleteRun(r.name, r.kind, r.uid, DeleteReason.HISTORY_LIMIT) for r in runs[keep:]
        )


def _finish(p: Pass, held: str | None) -> None:
    status, spec = p.status, p.spec
    status.active = [
        ActiveRun(
            name=run.name,
            kind=run.kind,
            uid=run.uid or None,
            scheduled_time=to_time(run.nominal),
            attempt=run.attempt,
        )
        for run in sorted(p.active.values(), key=lambda r: (r.nominal, r.name))
    ]
    nxt = None if held else p.timeline.next_tick(p.cursor)
    completed = (
        held is None
        and nxt is None
        and not p.active
        and not status.pending
        and status.handled_requests.backfill_cursor is None
    )
    if held:
        status.upcoming_schedule_times = []
    elif p.task.look_ahead:
        upcoming = p.timeline.upcoming(p.cursor, MAX_UPCOMING, stop=p.budget.out_of_time)
        if p.budget.exhausted:
            p.plan.deferred = True  # a later pass, with warmer caches, completes the list
        status.upcoming_schedule_times = [to_time(t.fire_at) for t in upcoming]
    upcoming_times = status.upcoming_schedule_times
    status.next_schedule_time = upcoming_times[0] if upcoming_times else None
    status.schedule_summary = spec.schedule_summary()

    now, gen = to_time(p.now), p.task.generation
    if held == Reason.TOO_MANY_FAILURES:
        set_condition(
            status,
            READY,
            ConditionStatus.FALSE,
            Reason.TOO_MANY_FAILURES,
            f"{status.consecutive_failures} consecutive runs failed "
            f"(suspendAfterFailures={spec.suspend_after_failures}); change the spec or set "
            "a new kron.dev/resume value to fire again",
            now=now,
            generation=gen,
        )
    elif held == Reason.SUSPENDED:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.SUSPENDED,
            "spec.suspend is true",
            now=now,
            generation=gen,
        )
    elif completed:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.COMPLETED,
            "no fire times remain",
            now=now,
            generation=gen,
        )
    else:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.SCHEDULED,
            "schedule is valid; the next fire time is in status.nextScheduleTime",
            now=now,
            generation=gen,
        )
    stalled = held == Reason.TOO_MANY_FAILURES
    set_condition(
        status,
        STALLED,
        ConditionStatus.TRUE if stalled else ConditionStatus.FALSE,
        Reason.TOO_MANY_FAILURES if stalled else Reason.FIRING,
        "stopped until the spec changes or kron.dev/resume gets a new value"
        if stalled
        else "the schedule is being followed",
        now=now,
        generation=gen,
    )
    if get_condition(status, DEGRADED) is None:
        set_condition(
            status,
            DEGRADED,
            ConditionStatus.FALSE,
            Reason.RUN_SUCCEEDED,
            "no run has failed",
            now=now,
            generation=gen,
        )

    wakes: list[float] = []
    if nxt is not None:
        wakes.append(nxt.fire_at)
    for entry in status.pending:
        if entry.not_after is not None:
            wakes.append(entry.not_after.timestamp())
        # A pending entry whose time came but which waits for an active run needs
        # no timer: that run's completion arrives as an event.
        if held is None and _not_before(entry, p.now) > p.now:
            wakes.append(_not_before(entry, p.now))
    if requests.backfill_waiting(p):
        wakes.append(p.now)
    if p.plan.deferred:
        wakes.append(p.now + DEFER_SECONDS)  # the engine backs off further if it recurs
    p.plan.wake_at = min(wakes) if wakes else None
