"""`successDeadlineSeconds`: a dead-man's switch on a task's runs.

When a tick comes due (it starts, is skipped by Forbid, queued, or missed; an
excluded tick is not due), the task awaits a success: `status.successDueSince` is
the fire time of the oldest tick due since the last successful run. Any run of the
task that succeeds after that instant (manual runs too) satisfies every tick due
up to then and clears it. If `successDeadlineSeconds` pass without one, condition
`Overdue=True` (reason `SuccessDeadlineExceeded`, since when in the message), a
Warning Event `Overdue`, and the engine exports the task in `kron_tasks_overdue`.
The planner's wake time includes the instant the task would become overdue, so the
condition is set on time even when nothing else happens.

While the task is suspended it is never overdue, and ticks that pass while it is
suspended are not awaited; stopped by `suspendAfterFailures` it stays overdue (its
runs are failing: what the switch is for). After a crash that lost the newest status
the clock restarts at the next tick due, so Overdue may come one interval late.
"""

from __future__ import annotations

from kron.api import ConditionStatus
from kron.planner.conditions import (
    OVERDUE,
    Reason,
    get_condition,
    remove_condition,
    set_condition,
)
from kron.planner.context import Pass
from kron.planner.records import EventType, RunPhase
from kron.planner.timeutil import rfc3339, to_time


def last_success(p: Pass) -> float | None:
    """When a run of the task last succeeded, from the status and the runs themselves."""
    times = [r.finished for r in p.task.runs if r.phase is RunPhase.SUCCEEDED and r.finished]
    if p.status.last_successful_time is not None:
        times.append(p.status.last_successful_time.timestamp())
    return max(times) if times else None


def note_due(p: Pass, fire_times: list[float]) -> None:
    """Ticks with these fire times came due in this pass (not excluded)."""
    if p.spec.success_deadline_seconds is None or not fire_times:
        return
    if p.status.success_due_since is not None:
        return
    last = last_success(p)
    awaiting = [t for t in fire_times if last is None or t > last]
    if awaiting:
        p.status.success_due_since = to_time(min(awaiting))


def evaluate(p: Pass, held: str | None) -> None:
    """Set (or remove) the Overdue condition, and when to look again."""
    status, deadline = p.status, p.spec.success_deadline_seconds
    if deadline is None:
        status.success_due_since = None
        remove_condition(status, OVERDUE)
        return
    last = last_success(p)
    due = status.success_due_since
    if due is not None and (
        (last is not None and last >= due.timestamp()) or held == Reason.SUSPENDED
    ):
        due = status.success_due_since = None
    previous = get_condition(status, OVERDUE)
    was = previous is not None and previous.status is ConditionStatus.TRUE
    now, gen = to_time(p.now), p.task.generation
    if held == Reason.SUSPENDED:
        value, reason, message = (
            ConditionStatus.FALSE,
            Reason.SUSPENDED,
            "spec.suspend is true: a suspended task is never overdue",
        )
    elif due is None:
        value, reason = ConditionStatus.FALSE, Reason.WITHIN_DEADLINE
        message = (
            f"a run succeeded at {rfc3339(last)}; no tick due since awaits one"
            if last is not None
            else "no tick has been due yet"
        )
    else:
        at = due.timestamp() + deadline
        if p.now >= at:
            value, reason = ConditionStatus.TRUE, Reason.SUCCESS_DEADLINE_EXCEEDED
            message = (
                f"overdue since {rfc3339(at)}: no run has succeeded since the tick due at "
                f"{rfc3339(due.timestamp())} (successDeadlineSeconds={deadline}); last "
                f"success: {rfc3339(last) if last is not None else 'never'}"
            )
            if not was:
                p.event(EventType.WARNING, "Overdue", message)
        else:
            value, reason = ConditionStatus.FALSE, Reason.WITHIN_DEADLINE
            message = (
                f"awaiting a successful run by {rfc3339(at)} (the tick due at "
                f"{rfc3339(due.timestamp())} plus successDeadlineSeconds={deadline})"
            )
            p.overdue_at = at
    if was and value is ConditionStatus.FALSE:
        p.event(EventType.NORMAL, "OverdueCleared", message)
    set_condition(status, OVERDUE, value, reason, message, now=now, generation=gen)
