"""Condition bookkeeping with Kubernetes semantics.

`lastTransitionTime` moves only when a condition's status flips, never when only
its reason or message changes; every write stamps `observedGeneration`, so
kstatus (Argo CD, Flux) can tell a stale condition from a fresh one.
"""

from __future__ import annotations

from datetime import datetime

from kron.api import Condition, ConditionStatus, ScheduledTaskStatus

READY = "Ready"
DEGRADED = "Degraded"
OVERDUE = "Overdue"
"""With successDeadlineSeconds: True while no run succeeded in time after a due tick."""
STALLED = "Stalled"
"""kstatus' convention (Flux, kpt, cli-utils): True means the task cannot make progress
until someone changes it (an unusable spec, or stopped after too many failures), which
GitOps tools report as Failed. Ready alone is not read by kstatus."""


class Reason:
    """Condition reasons of api.md (and two for Degraded)."""

    SCHEDULED = "Scheduled"
    SUSPENDED = "Suspended"
    COMPLETED = "Completed"
    INVALID_SCHEDULE = "InvalidSchedule"
    INVALID_TIME_ZONE = "InvalidTimeZone"
    INVALID_SPEC = "InvalidSpec"
    TOO_MANY_FAILURES = "TooManyFailures"
    RUN_FAILED = "RunFailed"
    RUN_SUCCEEDED = "RunSucceeded"
    NAME_CONFLICT = "NameConflict"
    FIRING = "Firing"
    INTERNAL_ERROR = "InternalError"
    """kron failed while indexing, planning or recording the task (it retries)."""
    CALENDAR_NOT_FOUND = "CalendarNotFound"
    INVALID_CALENDAR = "InvalidCalendar"
    SUCCESS_DEADLINE_EXCEEDED = "SuccessDeadlineExceeded"
    WITHIN_DEADLINE = "WithinDeadline"


def remove_condition(status: ScheduledTaskStatus, type_: str) -> None:
    status.conditions = [c for c in status.conditions if c.type != type_]


def get_condition(status: ScheduledTaskStatus, type_: str) -> Condition | None:
    return next((c for c in status.conditions if c.type == type_), None)


def ready_reason(status: ScheduledTaskStatus) -> str | None:
    ready = get_condition(status, READY)
    return ready.reason if ready is not None else None


def set_condition(
    status: ScheduledTaskStatus,
    type_: str,
    value: ConditionStatus,
    reason: str,
    message: str,
    *,
    now: datetime,
    generation: int,
) -> None:
    # Conditions carry whole seconds, as metav1.Time does.
    now = now.replace(microsecond=0)
    current = get_condition(status, type_)
    if current is None:
        status.conditions.append(
            Condition(
                type=type_,
                status=value,
                reason=reason,
                message=message,
                last_transition_time=now,
                observed_generation=generation,
            )
        )
        return
    if current.status != value:
        current.last_transition_time = now
    current.status = value
    current.reason = reason
    current.message = message
    current.observed_generation = generation
