"""The planner's inputs and outputs: plain, frozen records.

The engine builds a `TaskInput` from what it has observed (the task, its runs, the
executor's outcomes) and gets back a `Plan`. Keeping these as small dataclasses,
rather than Kubernetes objects, is what lets the planner stay pure and lets tests
drive it through any interleaving of restarts and observations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kron.api import RunKind, ScheduledTaskSpec, ScheduledTaskStatus, Trigger
from kron.schedule import DaySet

SCHEDULED_TRIGGERS = frozenset({Trigger.SCHEDULE, Trigger.CATCH_UP, Trigger.RETRY})
"""Runs of the schedule's own ticks: their retries carry trigger `retry`. A retry of a
manual or backfill run keeps that trigger (with attempt >= 1), so it never moves the
schedule's cursor and `stopAtNextSchedule` counts from when it started."""
COUNTED_TRIGGERS = frozenset({Trigger.SCHEDULE, Trigger.CATCH_UP})
"""Triggers of the runs `maxRuns` counts (attempt 0 only: a retry is the same run)."""


class RunPhase(StrEnum):
    """Where a run (Job or Pod) is in its life, as far as scheduling cares."""

    ACTIVE = "Active"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True, slots=True)
class ObservedRun:
    """One run of a task as the engine last saw it (or is creating it).

    `nominal`, `attempt` and `trigger` come from the run's own annotations, so a
    restarted operator can rebuild everything from the runs that exist.
    """

    name: str
    kind: RunKind
    nominal: int
    attempt: int = 0
    trigger: Trigger = Trigger.SCHEDULE
    phase: RunPhase = RunPhase.ACTIVE
    uid: str = ""
    created: float | None = None
    started: float | None = None
    finished: float | None = None
    message: str = ""
    deleting: bool = False
    in_flight: bool = False
    """The create was sent and not yet confirmed; counts as active."""
    scheduled_run: int | None = None
    """With maxRuns: the run's number in the count (`kron.dev/scheduled-run`)."""

    @property
    def finished_phase(self) -> bool:
        return self.phase is not RunPhase.ACTIVE


class FailureKind(StrEnum):
    """Why the executor could not create a run."""

    EXPIRED = "Expired"
    """Transient errors until the tick's expiry: the tick is missed."""
    REJECTED = "Rejected"
    """The API server refused the object (invalid template, forbidden): the run failed."""
    CONFLICT = "Conflict"
    """The deterministic name is taken by an object this task does not own."""


@dataclass(frozen=True, slots=True)
class CreateFailure:
    """An outcome reported back by the executor, consumed by the next plan."""

    name: str
    nominal: int
    attempt: int
    trigger: Trigger
    kind: FailureKind
    message: str
    at: float


@dataclass(frozen=True, slots=True)
class CalendarState:
    """One Calendar as the engine last read it: its days, or why they cannot be used."""

    days: DaySet | None
    problem: str = ""
    """One line saying why the calendar is unusable (its days are then None)."""


@dataclass(frozen=True, slots=True)
class TaskInput:
    """Everything the planner may look at for one task."""

    name: str
    namespace: str
    uid: str
    generation: int
    created: float
    spec: ScheduledTaskSpec
    status: ScheduledTaskStatus
    """The newest status the engine intends (or the persisted one after a restart)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    runs: Sequence[ObservedRun] = ()
    failures: Sequence[CreateFailure] = ()
    resumed_at: float = 0.0
    """Since when this replica has been dispatching. Ticks whose fire time came
    earlier were due while nobody could fire them: `catchUpPolicy` decides."""
    tombstone: int | None = None
    """Newest nominal time of a scheduled run seen deleted (history cleanup), so a
    lagging status never makes a cleaned-up tick look unfired."""
    calendars: Mapping[str, CalendarState] = field(default_factory=dict)
    """The Calendars of the task's namespace that its spec names, by name; a name that
    is absent here does not exist."""
    look_ahead: bool = True
    """Do the work a budget may cut short: the upcoming fire times and counting a new
    backfill. False while that work is backing off after running out of budget: the
    previous upcoming times are kept and a new backfill waits; ticks fire regardless."""


@dataclass(frozen=True, slots=True)
class CreateRun:
    """Create the run `name` for tick `nominal`.

    `fire_at` is when it was due (for lag metrics). The executor retries
    transient API errors until `expires_at` (None: until it succeeds), then
    reports `FailureKind.EXPIRED`.
    """

    name: str
    nominal: int
    attempt: int
    trigger: Trigger
    fire_at: float
    expires_at: float | None = None
    scheduled_run: int | None = None
    """With maxRuns, for a run it counts: its number in the count (1, 2, ...),
    recorded on the run so that the count never depends on the status alone."""


class DeleteReason(StrEnum):
    REPLACED = "Replaced"
    HISTORY_LIMIT = "HistoryLimit"


@dataclass(frozen=True, slots=True)
class DeleteRun:
    """Delete a run. Replaced runs go at once (foreground propagation); history
    cleanup waits until the status recording the run has been persisted."""

    name: str
    kind: RunKind
    uid: str
    reason: DeleteReason


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A Kubernetes Event to record on the task."""

    type: EventType
    reason: str
    message: str


@dataclass(slots=True)
class Plan:
    """What to do now, what the status becomes, and when to look again."""

    status: ScheduledTaskStatus
    creates: list[CreateRun] = field(default_factory=list)
    deletes: list[DeleteRun] = field(default_factory=list)
    cleanup: list[DeleteRun] = field(default_factory=list)
    events: list[TaskEvent] = field(default_factory=list)
    wake_at: float | None = None
    tallies: dict[tuple[str, str], int] = field(default_factory=dict)
    """What this pass added to `status.counts`, by (field, reason), for metrics."""
    deferred: bool = False
    """Some work ran out of the pass's budget and continues on the next pass."""
