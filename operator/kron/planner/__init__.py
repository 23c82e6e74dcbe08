"""The planner: pure decisions for one task.

`plan(TaskInput, now) -> Plan`. It never imports kopf, kubernetes or prometheus
and never reads the clock; the engine feeds it observations and executes its plan.
"""

from kron.planner.conditions import Reason
from kron.planner.plan import plan
from kron.planner.records import (
    CalendarState,
    CreateFailure,
    CreateRun,
    DeleteReason,
    DeleteRun,
    EventType,
    FailureKind,
    ObservedRun,
    Plan,
    RunPhase,
    TaskEvent,
    TaskInput,
)
from kron.planner.timelines import (
    CalendarError,
    calendar_days,
    day_rule,
    schedule_fingerprint,
    timeline_for,
)
from kron.planner.unplannable import UNPLANNABLE, internal_error_plan, invalid_plan

__all__ = [
    "UNPLANNABLE",
    "CalendarError",
    "CalendarState",
    "CreateFailure",
    "CreateRun",
    "DeleteReason",
    "DeleteRun",
    "EventType",
    "FailureKind",
    "ObservedRun",
    "Plan",
    "Reason",
    "RunPhase",
    "TaskEvent",
    "TaskInput",
    "calendar_days",
    "day_rule",
    "internal_error_plan",
    "invalid_plan",
    "plan",
    "schedule_fingerprint",
    "timeline_for",
]
