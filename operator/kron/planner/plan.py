"""`plan()`: from what is known about one task, decide what to do now.

Pure: no I/O and no clock reads (`now` is an argument). The engine calls it
whenever something about the task changed or its wake time came, executes the
returned actions and writes the returned status. A plan never creates a run whose
name is among the observed runs and never revisits a tick at or before the
cursor, which is what makes restarts and a second replica safe: the cursor is
rebuilt from the runs themselves, and run names are the idempotency keys.
"""

from __future__ import annotations

from kron.api import ConcurrencyPolicy, PendingReason, RunResult
from kron.planner import outcomes, overdue, replace, requests, runlimit
from kron.planner.budget import Budget
from kron.planner.conditions import Reason, ready_reason
from kron.planner.context import Pass
from kron.planner.due import skip_held_backlog, start_due
from kron.planner.finish import DEFER_SECONDS, finish, not_before
from kron.planner.records import (
    SCHEDULED_TRIGGERS,
    DeleteReason,
    DeleteRun,
    EventType,
    Plan,
    RunPhase,
    TaskInput,
)
from kron.planner.statuses import bound_status, copy_status
from kron.planner.timelines import schedule_fingerprint, timeline_for
from kron.planner.timeutil import rfc3339, to_int_seconds, to_time
from kron.planner.unplannable import (
    CALENDAR_REASONS,
    INVALID_REASONS,
    error_reason,
    invalid_plan,
)
from kron.schedule import ScheduleError, run_name

HELD_REASONS = frozenset({Reason.SUSPENDED, Reason.TOO_MANY_FAILURES})
__all__ = ["DEFER_SECONDS", "SCHEDULED_TRIGGERS", "plan"]


def plan(task: TaskInput, now: float, budget: Budget | None = None) -> Plan:
    """Decide what to do for `task` at `now`, within `budget` (default: PASS_STEPS)."""
    try:
        timeline = timeline_for(task.spec, task.uid, task.calendars)
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
    runlimit.count_confirmed(p)

    held = _held(p)
    if held is None:
        if was_held:
            skip_held_backlog(p)
        if not runlimit.reached(p):
            start_due(p)
        _pending(p)
    else:
        _drop_queued(p, held)
    if p.cursor > floor or last_tick is not None:
        status.last_schedule_time = to_time(p.cursor)
    requests.handle_run_now(p)
    requests.handle_backfill(p)
    _cleanup(p)
    overdue.evaluate(p, held)
    finish(p, held)
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
    reason = ready_reason(status)
    if reason in CALENDAR_REASONS:
        # The task itself was not edited: its Calendar appeared or was fixed. The
        # ticks due meanwhile were never evaluated; they stay after the cursor and
        # this pass counts them missed (not caught up, and not silently skipped).
        p.unplanned = reason
    elif reason in INVALID_REASONS:
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
    newest = replace.newest_started(p)
    for entry in sorted(p.status.pending, key=lambda e: not_before(e, p.now)):
        nominal = to_int_seconds(entry.scheduled_time)
        if replace.superseded(p, entry, newest):
            p.status.pending.remove(entry)
            outcomes.final_failure(
                p,
                outcomes.retried_name(p.task.name, entry),
                f"retry {entry.attempt} dropped: a newer tick replaced it",
                at=p.now,
            )
            continue
        if entry.not_after is not None and p.now > entry.not_after.timestamp():
            p.status.pending.remove(entry)
            if entry.reason is PendingReason.RETRY:
                outcomes.final_failure(
                    p,
                    outcomes.retried_name(p.task.name, entry),
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
        if p.now < not_before(entry, p.now):
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
            fire_at=not_before(entry, p.now),
            expires_at=entry.not_after.timestamp() if entry.not_after else None,
        )


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
