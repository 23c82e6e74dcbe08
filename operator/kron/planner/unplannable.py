"""Plans for a task that cannot be planned: its spec is unusable, or planning it failed.

Both fire nothing and say why on the task's own conditions, so one task's problem
is reported where its owner looks and nowhere else. They differ in what kstatus
(Argo CD, Flux) is told: an unusable spec is `Stalled=True` (nothing changes until
someone edits the task), an internal error is `Stalled=False` (kron retries it with
backoff). Either way the Event is emitted only when the condition changes, so
re-planning stays quiet.
"""

from __future__ import annotations

from kron.api import ConditionStatus, ScheduledTaskStatus
from kron.planner.conditions import READY, STALLED, Reason, get_condition, set_condition
from kron.planner.records import EventType, Plan, TaskEvent
from kron.planner.statuses import bound_status, bounded_message, copy_status
from kron.planner.timelines import CalendarError
from kron.planner.timeutil import to_time
from kron.schedule import ScheduleError, TimeZoneError

INVALID_REASONS = frozenset(
    {
        Reason.INVALID_SCHEDULE,
        Reason.INVALID_TIME_ZONE,
        Reason.INVALID_SPEC,
        Reason.CALENDAR_NOT_FOUND,
        Reason.INVALID_CALENDAR,
    }
)
"""Ready reasons of a task that cannot be used until someone changes it (or its
Calendars); fixing it is an edit: no tick at or before the fix fires."""
CALENDAR_REASONS = frozenset({Reason.CALENDAR_NOT_FOUND, Reason.INVALID_CALENDAR})
"""Ready reasons of a task whose Calendars, not the task itself, stop it. When they
are fixed the task was not edited: the ticks due meanwhile are counted missed."""
UNPLANNABLE = INVALID_REASONS | {Reason.INTERNAL_ERROR}
"""Ready reasons under which kron fires nothing for the task."""


def error_reason(error: ScheduleError) -> str:
    if isinstance(error, CalendarError):
        return error.condition_reason
    return Reason.INVALID_TIME_ZONE if isinstance(error, TimeZoneError) else Reason.INVALID_SCHEDULE


def invalid_plan(
    status: ScheduledTaskStatus, generation: int, reason: str, message: str, now: float
) -> Plan:
    """The task's spec cannot be used: say so on Ready and Stalled, fire nothing.

    `reason` is `InvalidSchedule`, `InvalidTimeZone`, `InvalidSpec`, `CalendarNotFound`
    or `InvalidCalendar`.
    """
    return _unplannable(status, generation, reason, message, now, stalled=True)


def internal_error_plan(
    status: ScheduledTaskStatus, generation: int, message: str, now: float
) -> Plan:
    """Planning, indexing or recording the task failed inside kron: `Ready=False`
    reason `InternalError` with the (one-line) `message`, `Stalled=False` because
    kron retries it."""
    return _unplannable(status, generation, Reason.INTERNAL_ERROR, message, now, stalled=False)


def _unplannable(
    status: ScheduledTaskStatus,
    generation: int,
    reason: str,
    message: str,
    now: float,
    *,
    stalled: bool,
) -> Plan:
    message = bounded_message(message)
    new = copy_status(status)
    previous = get_condition(status, READY)
    new.observed_generation = generation
    new.next_schedule_time = None
    new.upcoming_schedule_times = []
    new.upcoming_for = None
    at = to_time(now)
    set_condition(new, READY, ConditionStatus.FALSE, reason, message, now=at, generation=generation)
    set_condition(
        new,
        STALLED,
        ConditionStatus.TRUE if stalled else ConditionStatus.FALSE,
        reason,
        message if stalled else "kron retries planning this task with backoff",
        now=at,
        generation=generation,
    )
    result = Plan(status=bound_status(new))
    if previous is None or (previous.reason, previous.message) != (reason, message):
        result.events.append(TaskEvent(EventType.WARNING, reason, message))
    return result
