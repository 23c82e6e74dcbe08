"""The desired state of a ScheduledTask: what to run, when, and under which policies.

Cross-field rules are enforced twice from this one file: by the pydantic validators
below (for the operator and ``kron next -f``) and by the CEL rules attached to the
same models (for the API server at ``kubectl apply``). Schedule expressions and
time zones are checked by ``kron.schedule``, the engine that will interpret them.
"""

from datetime import datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kron.api import cel
from kron.api.base import SchemaExtra, SpecModel, UtcDateTime, format_time
from kron.api.calendar import CalendarName
from kron.api.constants import (
    MAX_BACKOFF_MULTIPLIER,
    MAX_BACKOFF_SECONDS,
    MAX_DEADLINE_SECONDS,
    MAX_EXCLUDE_SCHEDULES,
    MAX_EXPRESSION_LENGTH,
    MAX_JITTER_SECONDS,
    MAX_RETRIES,
    MAX_RUNS,
    MAX_SCHEDULES,
    MAX_TASK_CALENDARS,
    MAX_TIME_ZONE_LENGTH,
)
from kron.api.enums import CatchUpPolicy, ConcurrencyPolicy, RunKind
from kron.api.templates import JobTemplate, PodTemplate
from kron.schedule import ScheduleError, TimeZoneError, load_zone, parse_expression


def _check_expression(value: str) -> str:
    try:
        parse_expression(value)
    except ScheduleError as exc:
        raise PydanticCustomError("invalid_schedule", "{detail}", {"detail": str(exc)}) from None
    return value


def _check_zone(value: str) -> str:
    try:
        load_zone(value)
    except TimeZoneError as exc:
        raise PydanticCustomError("invalid_time_zone", "{detail}", {"detail": str(exc)}) from None
    return value


ScheduleExpression = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EXPRESSION_LENGTH),
    AfterValidator(_check_expression),
    SchemaExtra(cel.rules(*cel.schedule_expression_rules())),
]
"""One expression of the schedule grammar (cron with 5 or 6 fields, macro, @every, @at)."""

TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TIME_ZONE_LENGTH, pattern=cel.TIME_ZONE_PATTERN),
    AfterValidator(_check_zone),
]
"""An IANA time zone name known to the operator's tzdata."""

_CalendarNames = Annotated[list[CalendarName], SchemaExtra({"x-kubernetes-list-type": "set"})]

ONE_SCHEDULE = "exactly one of schedule or schedules must be set"
ONE_TEMPLATE = "exactly one of jobTemplate or podTemplate must be set"
WINDOW_ORDER = "endTime must be after startTime"
BACKOFF_ORDER = "maxSeconds must be greater than or equal to initialSeconds"


class Backoff(SpecModel):
    """Delay before each schedule-level retry: initialSeconds, then multiplied each time, capped."""

    model_config = ConfigDict(
        json_schema_extra=cel.rules(
            # has(): the schema default of `backoff` is {}, checked before its fields default.
            cel.Rule(
                "!has(self.initialSeconds) || !has(self.maxSeconds) || "
                "self.maxSeconds >= self.initialSeconds",
                BACKOFF_ORDER,
            )
        )
    )

    initial_seconds: int = Field(
        10, ge=1, le=MAX_BACKOFF_SECONDS, description="Delay before the first retry, in seconds."
    )
    max_seconds: int = Field(
        3600,
        ge=1,
        le=MAX_BACKOFF_SECONDS,
        description="Longest delay between retries, in seconds (>= initialSeconds).",
    )
    multiplier: float = Field(
        2.0,
        ge=1.0,
        le=MAX_BACKOFF_MULTIPLIER,
        allow_inf_nan=False,
        description="Factor applied to the delay after each retry (1 = constant).",
    )

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.max_seconds < self.initial_seconds:
            raise ValueError(f"{BACKOFF_ORDER} ({self.max_seconds} < {self.initial_seconds})")
        return self

    def delay_seconds(self, retry: int) -> float:
        """Delay before retry number ``retry`` (1 for the first retry), saturating at
        maxSeconds without ever computing a power that overflows."""
        delay = float(self.initial_seconds)
        for _ in range(max(retry - 1, 0)):
            if delay >= self.max_seconds or self.multiplier == 1.0:
                break
            delay *= self.multiplier
        return float(min(delay, self.max_seconds))


class RetryPolicy(SpecModel):
    """Schedule-level retries of a failed run, on top of the Job's own backoffLimit."""

    max_retries: int = Field(
        3,
        ge=0,
        le=MAX_RETRIES,
        description="How many times a failed run of one tick is retried as a new run "
        "(0 disables retries).",
    )
    backoff: Backoff = Field(
        default_factory=Backoff,
        description="Delay before each retry.",
        json_schema_extra={"default": {}},
    )
    stop_at_next_schedule: bool = Field(
        True,
        description="When true, no retry of a tick starts after the next scheduled tick: the "
        "new tick supersedes it.",
    )
    retry_manual_runs: bool | None = Field(
        None,
        description="Retry failed manual runs (kron.dev/run-now) too, as <run>-r<attempt> "
        "(unset: true). Scheduled, caught-up and backfilled runs are always retried.",
    )


_SPEC_RULES = cel.rules(
    cel.Rule("has(self.schedule) != has(self.schedules)", ONE_SCHEDULE),
    cel.Rule("has(self.jobTemplate) != has(self.podTemplate)", ONE_TEMPLATE),
    cel.Rule(
        "!has(self.startTime) || !has(self.endTime) || self.endTime > self.startTime",
        WINDOW_ORDER,
        field_path=".endTime",
    ),
)


class ScheduledTaskSpec(SpecModel):
    """When to run, what to run, and what to do when runs overlap, fail or are missed."""

    model_config = ConfigDict(json_schema_extra=_SPEC_RULES)

    schedule: ScheduleExpression | None = Field(
        None,
        description="When to run: a cron expression with 5 fields (minute hour day-of-month "
        "month day-of-week) or 6 (seconds first; day-of-month also takes L, L-n, LW, nW, "
        "day-of-week d#n and dL), a macro (@hourly, @daily, @midnight, "
        "@weekly, @monthly, @yearly, @annually), '@every <duration>' (units h, m, s, e.g. "
        "90s, 1h30m; counted from the Unix epoch) or '@at <RFC 3339 time>' (run once). Exactly "
        "one of schedule and schedules.",
    )
    schedules: list[ScheduleExpression] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SCHEDULES,
        description="Several expressions (same grammar as schedule); the task fires at the "
        "union of their times, once per instant. Exactly one of schedule and schedules.",
    )
    time_zone: TimeZoneName = Field(
        "UTC",
        description="IANA time zone (e.g. Europe/Paris) in which the wall-clock fields of "
        "cron expressions are read. A wall-clock time skipped by daylight saving fires once "
        "just after the gap; one repeated fires once. If the hour field matches every hour, "
        "exactly the wall times that occur fire (a repeated one twice, a skipped one not).",
    )
    start_time: UtcDateTime | None = Field(
        None, description="Nothing fires before this instant (RFC 3339, inclusive)."
    )
    end_time: UtcDateTime | None = Field(
        None,
        description="Nothing fires after this instant (RFC 3339, inclusive; after startTime).",
    )
    exclude_schedules: list[ScheduleExpression] | None = Field(
        None,
        max_length=MAX_EXCLUDE_SCHEDULES,
        description="Expressions (read in timeZone) whose times never fire, e.g. holidays or "
        "freeze windows; such ticks are counted as excluded.",
    )
    exclude_calendars: _CalendarNames | None = Field(
        None,
        max_length=MAX_TASK_CALENDARS,
        description="Calendars of this namespace whose days never fire (holidays): a tick "
        "whose wall-clock day in timeZone is in any of them is counted as excluded. A "
        "missing or invalid calendar stops the task (Ready=False) until it is fixed.",
    )
    restrict_to_calendars: _CalendarNames | None = Field(
        None,
        max_length=MAX_TASK_CALENDARS,
        description="Calendars of this namespace outside whose days nothing fires (business "
        "days): a tick whose wall-clock day in timeZone is in none of them is counted as "
        "excluded. excludeCalendars wins where both apply.",
    )
    jitter_seconds: int = Field(
        0,
        ge=0,
        le=MAX_JITTER_SECONDS,
        description="Delay each fire by a deterministic pseudo-random amount in "
        "[0, jitterSeconds), the same on every replica; reduced modulo the interval to the "
        "next tick when that is shorter, so it spreads over the interval and never passes it.",
    )
    suspend: bool = Field(
        False,
        description="Start no new runs (running ones continue). Ticks while suspended count "
        "as skipped and are not caught up on resume.",
    )
    concurrency_policy: ConcurrencyPolicy = Field(
        ConcurrencyPolicy.ALLOW,
        description="When a tick comes while a run is active: Allow starts another; Forbid "
        "skips the tick; Replace deletes the active run and starts the new one; Queue keeps "
        "at most one pending tick and starts it when the active run ends.",
    )
    starting_deadline_seconds: int | None = Field(
        None,
        ge=0,
        le=MAX_DEADLINE_SECONDS,
        description="A tick that cannot start within this many seconds of its scheduled time "
        "is counted as missed. Unset: no deadline.",
    )
    catch_up_policy: CatchUpPolicy = Field(
        CatchUpPolicy.LATEST,
        description="Ticks missed while the operator was down: Latest runs only the most "
        "recent; All runs every one within startingDeadlineSeconds (at most 100, oldest "
        "first); None runs none. Excluded ticks are not missed ones (under Latest the most "
        "recent tick not excluded runs). Ticks before the last schedule change are never "
        "caught up.",
    )
    retry_policy: RetryPolicy | None = Field(
        None, description="Retry failed runs as new runs. Unset: no schedule-level retries."
    )
    success_deadline_seconds: int | None = Field(
        None,
        ge=1,
        le=MAX_DEADLINE_SECONDS,
        description="Dead-man's switch: when no run of the task succeeds within this many "
        "seconds after a tick was due (skipped and missed ticks included, excluded ones "
        "not), the task gets condition Overdue=True, an Event and the kron_tasks_overdue "
        "metric, until a run succeeds. Never overdue while suspended. Unset: off.",
    )
    max_runs: int | None = Field(
        None,
        ge=1,
        le=MAX_RUNS,
        description="Complete (Ready reason Completed) after this many scheduled runs: ticks "
        "of the schedule that started a run (schedule and catch-up; a retry is the same run; "
        "manual and backfill runs are not counted), counted from when maxRuns was set.",
    )
    suspend_after_failures: int | None = Field(
        None,
        ge=1,
        description="Stop firing after this many consecutive failed runs (retries "
        "exhausted), with condition Ready=False reason TooManyFailures, until the spec "
        "changes or the kron.dev/resume annotation is set. Unset: never.",
    )
    successful_runs_history_limit: int = Field(
        3, ge=0, le=100, description="How many finished successful runs to keep."
    )
    failed_runs_history_limit: int = Field(
        1, ge=0, le=100, description="How many finished failed runs to keep."
    )
    job_template: JobTemplate | None = Field(
        None,
        description="Make each run a batch/v1 Job. Exactly one of jobTemplate and podTemplate.",
    )
    pod_template: PodTemplate | None = Field(
        None,
        description="Make each run a bare Pod. Exactly one of jobTemplate and podTemplate.",
    )

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> Self:
        if (self.schedule is None) == (self.schedules is None):
            found = "both" if self.schedule is not None else "neither"
            raise ValueError(f"{ONE_SCHEDULE} (found {found})")
        if (self.job_template is None) == (self.pod_template is None):
            found = "both" if self.job_template is not None else "neither"
            raise ValueError(f"{ONE_TEMPLATE} (found {found})")
        return self

    @field_validator("end_time")
    @classmethod
    def _check_window(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field validator (not the model one) so the error is located at spec.endTime.
        start = info.data.get("start_time")
        if start is not None and end is not None and end <= start:
            raise ValueError(f"{WINDOW_ORDER} ({format_time(start)})")
        return end

    @property
    def expressions(self) -> list[str]:
        """The schedule expressions, whichever of schedule/schedules holds them."""
        if self.schedule is not None:
            return [self.schedule]
        return list(self.schedules or ())

    @property
    def calendar_names(self) -> tuple[str, ...]:
        """Every Calendar the task refers to, once each."""
        names = [*(self.exclude_calendars or ()), *(self.restrict_to_calendars or ())]
        return tuple(dict.fromkeys(names))

    @property
    def kind(self) -> RunKind:
        """Whether runs are Jobs or Pods."""
        return RunKind.JOB if self.job_template is not None else RunKind.POD

    @property
    def template(self) -> JobTemplate | PodTemplate:
        """The run template, whichever of jobTemplate/podTemplate is set."""
        template = self.job_template or self.pod_template
        assert template is not None  # guaranteed by _check_cross_field_rules
        return template

    def schedule_summary(self) -> str:
        """Short text for the SCHEDULE printer column (``status.scheduleSummary``)."""
        expressions = self.expressions
        if len(expressions) == 1:
            return expressions[0]
        return f"{expressions[0]} (+{len(expressions) - 1} more)"
