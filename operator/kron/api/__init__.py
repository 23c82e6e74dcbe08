"""The ScheduledTask API (kron.dev/v1alpha1) as pydantic models: the single source of truth.

The CRD (``crds/kron.dev_scheduledtasks.yaml``), its chart copy and the API reference
page (docs/reference/api.md) are generated from these models by
``python -m kron.api.crd --write``.
Serialise with ``model.to_api()`` (camelCase, no nulls, RFC 3339 UTC times); parse
objects from the API server with ``ScheduledTask.from_api(obj)``; turn a validation
error into one line per field with ``field_errors``.
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
from kron.api.errors import FieldError, field_errors
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
    "FieldError",
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
    "field_errors",
    "format_time",
]
