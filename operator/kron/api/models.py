"""Every model of the ScheduledTask API in one import (``from kron.api.models import ...``).

The definitions live in small modules: ``enums``, ``templates``, ``spec``,
``status`` and ``task``; this module only gathers them.
"""

from kron.api.base import ApiModel, SpecModel, StatusModel, UtcDateTime, format_time
from kron.api.enums import (
    CatchUpPolicy,
    ConcurrencyPolicy,
    ConditionStatus,
    PendingReason,
    RunKind,
    RunResult,
    Trigger,
)
from kron.api.spec import (
    Backoff,
    RetryPolicy,
    ScheduledTaskSpec,
    ScheduleExpression,
    TimeZoneName,
)
from kron.api.status import (
    ActiveRun,
    Condition,
    HandledRequests,
    HistoryEntry,
    PendingRun,
    RunCounts,
    ScheduledTaskStatus,
)
from kron.api.task import ScheduledTask, TaskMetadata
from kron.api.templates import JobTemplate, PodTemplate, TemplateMetadata

__all__ = [
    "ActiveRun",
    "ApiModel",
    "Backoff",
    "CatchUpPolicy",
    "ConcurrencyPolicy",
    "Condition",
    "ConditionStatus",
    "HandledRequests",
    "HistoryEntry",
    "JobTemplate",
    "PendingReason",
    "PendingRun",
    "PodTemplate",
    "RetryPolicy",
    "RunCounts",
    "RunKind",
    "RunResult",
    "ScheduleExpression",
    "ScheduledTask",
    "ScheduledTaskSpec",
    "ScheduledTaskStatus",
    "SpecModel",
    "StatusModel",
    "TaskMetadata",
    "TemplateMetadata",
    "TimeZoneName",
    "Trigger",
    "UtcDateTime",
    "format_time",
]
