"""The observed state of a ScheduledTask, written only by the operator.

Status models ignore unknown fields, so an operator can read what a newer version
wrote. The runs themselves (Jobs/Pods with their ``kron.dev/scheduled-time``
annotation) are the durable record; status is a summary the planner can rebuild.
"""

from typing import Annotated

from pydantic import Field, computed_field
from pydantic.config import JsonDict

from kron.api.base import SchemaExtra, StatusModel, UtcDateTime
from kron.api.constants import (
    MAX_ACTIVE_RUNS,
    MAX_HISTORY,
    MAX_MESSAGE_LENGTH,
    MAX_PENDING,
    MAX_TOKEN_LENGTH,
    MAX_UPCOMING,
)
from kron.api.enums import ConditionStatus, PendingReason, RunKind, RunResult, Trigger

_ATTEMPT = "0 for the first run of a tick, n for its n-th retry."


def _schema_max(**limits: int) -> JsonDict:
    """Bounds the API server enforces on what kron writes. Only in the schema: a
    status written by an older kron may exceed them and must still be read."""
    return dict(limits)


_MESSAGE = _schema_max(maxLength=MAX_MESSAGE_LENGTH)
_NAME = _schema_max(maxLength=253)


class Condition(StatusModel):
    """One aspect of the task's state (Ready, Degraded, Stalled), as in every Kubernetes API."""

    type: str = Field(
        description="Condition type: Ready, Degraded, Stalled or Overdue.",
        json_schema_extra=_schema_max(maxLength=64),
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        "",
        description="One CamelCase word for the state, e.g. Scheduled, Suspended, Completed, "
        "InvalidSchedule, InvalidTimeZone, CalendarNotFound, InvalidCalendar, "
        "TooManyFailures, InternalError, SuccessDeadlineExceeded.",
        json_schema_extra=_schema_max(maxLength=64),
    )
    message: str = Field(
        "",
        description=f"Human-readable details (at most {MAX_MESSAGE_LENGTH} characters).",
        json_schema_extra=_MESSAGE,
    )
    last_transition_time: UtcDateTime | None = Field(None, description="When status last changed.")
    observed_generation: int | None = Field(
        None, ge=0, description="The metadata.generation this condition was computed from."
    )


class ActiveRun(StatusModel):
    """A run (Job or Pod) that has not finished."""

    name: str = Field(description="Name of the Job or Pod.", json_schema_extra=_NAME)
    kind: RunKind = Field(description="Job or Pod.")
    uid: str | None = Field(
        None, description="UID of the Job or Pod.", json_schema_extra=_schema_max(maxLength=64)
    )
    scheduled_time: UtcDateTime = Field(description="Nominal time of the tick this run is for.")
    attempt: int = Field(0, ge=0, description=_ATTEMPT)


class PendingRun(StatusModel):
    """A tick waiting to start: queued behind an active run, or a retry waiting its backoff."""

    name: str | None = Field(
        None,
        description="Name the run will get, when it is not derived from the tick (a queued "
        "manual run).",
        json_schema_extra=_NAME,
    )
    scheduled_time: UtcDateTime = Field(description="Nominal time of the tick.")
    attempt: int = Field(0, ge=0, description=_ATTEMPT)
    not_before: UtcDateTime | None = Field(
        None, description="Earliest start (end of the retry backoff). Unset: as soon as possible."
    )
    not_after: UtcDateTime | None = Field(
        None,
        description="Latest start: a queued tick past startingDeadlineSeconds is missed, a retry "
        "past the next scheduled tick (stopAtNextSchedule) is dropped.",
    )
    trigger: Trigger = Field(description="Why the run will start.")
    reason: PendingReason = Field(
        description="Queued (held by concurrencyPolicy Queue) or Retry (waiting to retry)."
    )


class HistoryEntry(StatusModel):
    """How one tick ended; the newest entries are kept."""

    scheduled_time: UtcDateTime = Field(description="Nominal time of the tick.")
    name: str | None = Field(
        None,
        description="The run's Job or Pod name; unset when no run was created.",
        json_schema_extra=_NAME,
    )
    attempt: int = Field(0, ge=0, description=_ATTEMPT)
    trigger: Trigger = Field(description="Why the tick was handled.")
    result: RunResult = Field(description="Succeeded, Failed, Missed, Skipped or Excluded.")
    start_time: UtcDateTime | None = Field(None, description="When the run was created.")
    completion_time: UtcDateTime | None = Field(None, description="When the run finished.")
    message: str | None = Field(
        None,
        description=f"Why it ended this way (at most {MAX_MESSAGE_LENGTH} characters).",
        json_schema_extra=_MESSAGE,
    )


class RunCounts(StatusModel):
    """Totals since the task was created."""

    fired: int = Field(0, ge=0, description="Runs created (all triggers, retries included).")
    succeeded: int = Field(0, ge=0, description="Runs that succeeded.")
    failed: int = Field(0, ge=0, description="Runs that failed.")
    retried: int = Field(0, ge=0, description="Retry runs created.")
    missed: int = Field(0, ge=0, description="Ticks that could not start in time.")
    skipped: int = Field(0, ge=0, description="Ticks skipped (Forbid, suspended).")
    excluded: int = Field(0, ge=0, description="Ticks matching excludeSchedules.")


class HandledRequests(StatusModel):
    """The last value of each imperative annotation the operator acted on.

    Kept so that a re-applied annotation never acts twice, even after its run was
    cleaned up from the cluster and from history.
    """

    run_now: str | None = Field(
        None,
        json_schema_extra=_schema_max(maxLength=MAX_TOKEN_LENGTH),
        description="Digest (sha256:...) of the last handled kron.dev/run-now token.",
    )
    backfill: str | None = Field(
        None,
        json_schema_extra=_schema_max(maxLength=MAX_TOKEN_LENGTH),
        description="Digest (sha256:...) of the last handled kron.dev/backfill value.",
    )
    backfill_start: UtcDateTime | None = Field(
        None, description="Start of the backfill in progress (from its <from>)."
    )
    backfill_end: UtcDateTime | None = Field(
        None, description="End of the backfill in progress (from its <to>)."
    )
    backfill_cursor: UtcDateTime | None = Field(
        None,
        description="Nominal time of the newest tick of that backfill already fired; the "
        "backfill is complete when it reaches the interval's end.",
    )
    resume: str | None = Field(
        None,
        json_schema_extra=_schema_max(maxLength=MAX_TOKEN_LENGTH),
        description="Digest (sha256:...) of the last handled kron.dev/resume token.",
    )


_CONDITIONS_LIST = SchemaExtra(
    {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
)


class ScheduledTaskStatus(StatusModel):
    """What the operator observed and decided, for kubectl, kstatus and the next reconcile."""

    observed_generation: int | None = Field(
        None, ge=0, description="The metadata.generation of the spec this status reflects."
    )
    conditions: Annotated[list[Condition], _CONDITIONS_LIST] = Field(
        default_factory=list,
        json_schema_extra=_schema_max(maxItems=8),
        description="Ready (schedule valid and tracked), Degraded (last run failed after "
        "retries), Stalled (kstatus: cannot progress until the spec changes or it is "
        "resumed) and, with successDeadlineSeconds, Overdue (no success in time).",
    )
    schedule_summary: str | None = Field(
        None,
        description="The schedule in short, for the SCHEDULE column of kubectl get.",
        json_schema_extra=_schema_max(maxLength=320),
    )
    next_schedule_time: UtcDateTime | None = Field(
        None, description="When the task fires next (after jitter)."
    )
    upcoming_schedule_times: list[UtcDateTime] = Field(
        default_factory=list,
        max_length=MAX_UPCOMING,
        description=f"The next {MAX_UPCOMING} fire times (after jitter).",
    )
    last_schedule_time: UtcDateTime | None = Field(
        None,
        description="Nominal time of the newest tick handled; catch-up starts after it.",
    )
    last_successful_time: UtcDateTime | None = Field(None, description="When a run last succeeded.")
    last_failure_time: UtcDateTime | None = Field(None, description="When a run last failed.")
    consecutive_failures: int = Field(
        0, ge=0, description="Failed runs (retries exhausted) since the last success."
    )
    active: list[ActiveRun] = Field(
        default_factory=list,
        description=f"Runs not finished (at most {MAX_ACTIVE_RUNS}: a task never has more "
        "runs at once).",
        json_schema_extra=_schema_max(maxItems=MAX_ACTIVE_RUNS),
    )
    pending: list[PendingRun] = Field(
        default_factory=list,
        description=f"The queued tick and the retries waiting, if any (at most {MAX_PENDING}).",
        json_schema_extra=_schema_max(maxItems=MAX_PENDING),
    )
    history: list[HistoryEntry] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description=f"The last {MAX_HISTORY} handled ticks, newest first.",
    )
    counts: RunCounts = Field(default_factory=RunCounts, description="Totals by outcome.")
    handled_requests: HandledRequests = Field(
        default_factory=HandledRequests,
        description="Imperative annotations already acted on.",
    )
    success_due_since: UtcDateTime | None = Field(
        None,
        description="Fire time of the oldest tick due since the last success, while "
        "successDeadlineSeconds is set: the task is Overdue once that many seconds have "
        "passed since then without a successful run.",
    )
    scheduled_runs: int | None = Field(
        None,
        ge=0,
        description="Scheduled runs started since maxRuns was set (schedule and catch-up "
        "triggers; retries are the same run), as confirmed by the API server.",
    )
    scheduled_runs_through: UtcDateTime | None = Field(
        None,
        description="Nominal time of the newest scheduled run counted in scheduledRuns: runs "
        "after it that exist are counted even if a status write was lost.",
    )
    schedule_hash: str | None = Field(
        None,
        description="Fingerprint of the schedule fields the status was computed for.",
    )
    upcoming_for: str | None = Field(
        None,
        description="Fingerprint of what upcomingScheduleTimes was computed from (the "
        "schedule fields and the Calendars' days): a pass that finds another one computes "
        "the list afresh.",
        json_schema_extra=_schema_max(maxLength=64),
    )
    schedule_changed_time: UtcDateTime | None = Field(
        None,
        description="When the operator first saw scheduleHash; ticks before it are never "
        "caught up.",
    )

    @computed_field(description="Number of active runs, for the ACTIVE column of kubectl get.")  # type: ignore[prop-decorator]
    @property
    def active_count(self) -> int:
        """Derived from ``active`` so that it can never disagree with it."""
        return len(self.active)
