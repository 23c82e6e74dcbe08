"""A ScheduledTask as the pages show it: schedule in words, next fire, last result, state.

Pure: an object as read from the API server and ``now`` in, a `TaskView` out. Every
task is hostile input: one whose spec does not parse still gets a row that says why,
and never breaks the page for the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from kron.api import HistoryEntry, RunResult, ScheduledTask, ScheduledTaskStatus, field_errors
from kron.cli.timefmt import display_zone, format_duration
from kron.planner import timeline_for
from kron.schedule import ScheduleError
from kron.schedule.describe import describe_schedules

Object = dict[str, Any]

OVERDUE_GRACE_SECONDS = 120
"""A fire this long past its time with no newer tick handled makes a task Overdue (the
operator is down, or too slow), unless the task says otherwise with a condition."""


@dataclass(frozen=True, slots=True)
class State:
    """One badge: a word, its tone (ok, warn, bad, idle) and why."""

    label: str
    tone: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant shown in a zone: ``text`` (local, with offset) and ``iso`` (UTC)."""

    text: str
    iso: str
    relative: str


@dataclass(frozen=True, slots=True)
class Run:
    """One history entry, ready to show."""

    scheduled: Moment
    result: str
    tone: str
    name: str | None
    kind: str
    attempt: int
    trigger: str
    duration: str
    message: str


@dataclass(slots=True)
class TaskView:
    name: str
    namespace: str
    uid: str
    cron: list[str]
    words: str | None
    zone: str
    suspended: bool
    kind: str
    concurrency: str
    jitter_seconds: int
    states: list[State] = field(default_factory=list)
    next_fire: Moment | None = None
    last_result: Run | None = None
    history: list[Run] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    problem: str | None = None
    task: ScheduledTask | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def relative(seconds: float) -> str:
    """``in 5m``, ``3h ago``, ``now``."""
    if abs(seconds) < 1:
        return "now"
    text = format_duration(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def zone_abbreviation(local: datetime) -> str:
    """``CET``, ``EDT``; ``UTC+03`` where the zone has no letters for it."""
    name = local.strftime("%Z")
    if name and name[0] in "+-":
        return "UTC" + name
    return name


def clock_text(local: datetime) -> str:
    """``02:30``, ``02:30:15``, or ``02:30:41.123`` for a jittered time."""
    if local.microsecond:
        return f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"
    return f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"


def moment(value: datetime, zone: ZoneInfo, now: float) -> Moment:
    local = value.astimezone(zone)
    text = f"{local:%Y-%m-%d} {clock_text(local)} {zone_abbreviation(local)}"
    return Moment(text, value.isoformat(), relative(value.timestamp() - now))


RESULT_TONES = {
    RunResult.SUCCEEDED: "ok",
    RunResult.FAILED: "bad",
    RunResult.MISSED: "warn",
    RunResult.SKIPPED: "idle",
    RunResult.EXCLUDED: "idle",
}


def run_view(entry: HistoryEntry, zone: ZoneInfo, now: float, kind: str) -> Run:
    duration = "-"
    if entry.start_time is not None and entry.completion_time is not None:
        duration = format_duration((entry.completion_time - entry.start_time).total_seconds())
    elif entry.start_time is not None and entry.name:
        duration = "running " + format_duration(now - entry.start_time.timestamp())
    return Run(
        scheduled=moment(entry.scheduled_time, zone, now),
        result=entry.result.value,
        tone=RESULT_TONES.get(entry.result, "idle"),
        name=entry.name,
        kind=kind,
        attempt=entry.attempt,
        trigger=entry.trigger.value,
        duration=duration,
        message=(entry.message or "")[:500],
    )


def _conditions(status: ScheduledTaskStatus | None) -> dict[str, Any]:
    return {c.type: c for c in status.conditions} if status is not None else {}


def states(task: ScheduledTask, now: float) -> list[State]:
    """Ready / Degraded / Stalled / Overdue, as badges, from the status conditions.

    Overdue comes from an ``Overdue`` condition when the operator sets one; otherwise
    it is derived: the next fire time the operator announced is long past.
    """
    status = task.status
    if status is None:
        return [State("Pending", "idle", "the operator has not reported on this task yet")]
    found: list[State] = []
    conditions = _conditions(status)
    ready = conditions.get("Ready")
    if ready is None:
        found.append(State("Pending", "idle", "no Ready condition yet"))
    elif ready.reason == "Suspended":
        found.append(State("Suspended", "idle", ready.message or "spec.suspend is true"))
    elif ready.status == "True":
        label = "Completed" if ready.reason == "Completed" else "Ready"
        found.append(State(label, "ok", ready.message or ready.reason))
    else:
        found.append(State(ready.reason or "NotReady", "bad", ready.message))
    for kind, tone in (("Degraded", "warn"), ("Stalled", "bad"), ("Overdue", "warn")):
        condition = conditions.get(kind)
        if condition is not None and condition.status == "True":
            found.append(State(kind, tone, condition.message or condition.reason))
    nxt = status.next_schedule_time
    if (
        "Overdue" not in conditions
        and not task.spec.suspend
        and nxt is not None
        and now - nxt.timestamp() > OVERDUE_GRACE_SECONDS
    ):
        late = format_duration(now - nxt.timestamp())
        found.append(
            State("Overdue", "warn", f"the fire due {late} ago has not been handled (operator?)")
        )
    return found


def _next_fire(task: ScheduledTask, zone: ZoneInfo, now: float) -> Moment | None:
    status = task.status
    if task.spec.suspend:
        return None
    if status is not None and status.observed_generation == task.metadata.generation:
        future = [t for t in status.upcoming_schedule_times if t.timestamp() > now]
        if future:
            return moment(future[0], zone, now)
    try:
        tick = timeline_for(task.spec, task.metadata.uid or "").upcoming(int(now), 1)
    except ScheduleError:
        return None
    if not tick:
        return None
    return moment(datetime.fromtimestamp(tick[0].fire_at, zone), zone, now)


def _broken(obj: Object, problem: str) -> TaskView:
    meta, spec = _dict(obj.get("metadata")), _dict(obj.get("spec"))
    raw = spec.get("schedules") or [spec.get("schedule")]
    cron = [str(s) for s in raw if s] if isinstance(raw, list) else []
    return TaskView(
        name=str(meta.get("name") or "?"),
        namespace=str(meta.get("namespace") or "?"),
        uid=str(meta.get("uid") or ""),
        cron=cron,
        words=None,
        zone=str(spec.get("timeZone") or "UTC"),
        suspended=spec.get("suspend") is True,
        kind="?",
        concurrency=str(spec.get("concurrencyPolicy") or "Allow"),
        jitter_seconds=0,
        states=[State("Invalid", "bad", problem)],
        problem=problem,
    )


def task_view(obj: Object, now: float) -> TaskView:
    """The view of one task object; an unparsable one gets a row that says why."""
    try:
        task = ScheduledTask.from_api(obj)
    except ValidationError as err:
        problems = field_errors(err)
        return _broken(obj, str(problems[0]) if problems else str(err))
    spec, status = task.spec, task.status
    zone = display_zone(spec.time_zone)
    kind = spec.kind.value
    view = TaskView(
        name=task.metadata.name or "?",
        namespace=task.metadata.namespace or "?",
        uid=task.metadata.uid or "",
        cron=spec.expressions,
        words=describe_schedules(spec.expressions),
        zone=zone.key,
        suspended=spec.suspend,
        kind=kind,
        concurrency=spec.concurrency_policy.value,
        jitter_seconds=spec.jitter_seconds,
        states=states(task, now),
        next_fire=_next_fire(task, zone, now),
        task=task,
    )
    if status is not None:
        view.history = [run_view(entry, zone, now, kind) for entry in status.history]
        view.last_result = next(
            (run for run in view.history if run.result in ("Succeeded", "Failed", "Missed")),
            view.history[0] if view.history else None,
        )
        view.active = [run.name for run in status.active]
        view.pending = [
            f"{p.reason.value} {p.trigger.value} tick of "
            f"{moment(p.scheduled_time, zone, now).text} (attempt {p.attempt})"
            for p in status.pending
        ]
        view.counts = status.counts.model_dump()
    return view


def sort_views(views: list[TaskView]) -> list[TaskView]:
    return sorted(views, key=lambda v: (v.namespace, v.name))
