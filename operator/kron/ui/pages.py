"""The read-only pages: tasks of a namespace, one task, the 24-hour herd chart.

Each page is a set of named regions (the task rows, a task's history...). A page
render and a live update render the same region templates from the same context,
so what a stream pushes is exactly what a reload would show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kron.schedule import ScheduleError, TimeZoneError, load_zone
from kron.ui.access import Access
from kron.ui.calendar import MAX_DAYS, Calendar, upcoming_days
from kron.ui.feeds import Feed
from kron.ui.herds import Herds, herds
from kron.ui.model import Moment, TaskView, moment, sort_views, task_view

Context = dict[str, Any]
Clock = Callable[[], float]

LIST_REGIONS = ("list-summary", "rows")
TASK_REGIONS = ("task-summary", "task-actions", "task-upcoming", "task-history", "task-events")
TIMELINE_REGIONS = ("herds",)
MAX_EVENTS = 20
DEFAULT_DAYS = 14


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- the tasks of a namespace ----------------------------------------------------------


def list_context(feed: Feed, now: float, *, all_namespaces: bool) -> Context:
    views = sort_views([task_view(obj, now) for obj in feed.objects.values()])
    tally: dict[str, int] = {}
    for view in views:
        for state in view.states:
            tally[state.label] = tally.get(state.label, 0) + 1
    return {
        "views": views,
        "tally": sorted(tally.items()),
        "error": feed.error,
        "dropped": feed.dropped,
        "all_namespaces": all_namespaces,
    }


# -- one task --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventView:
    type: str
    reason: str
    message: str
    count: int
    when: Moment | None


def _event_time(obj: Mapping[str, Any]) -> str:
    meta = _dict(obj.get("metadata"))
    return str(
        obj.get("lastTimestamp")
        or obj.get("eventTime")
        or obj.get("firstTimestamp")
        or meta.get("creationTimestamp")
        or ""
    )


def _parse_time(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def task_events(feed: Feed, view: TaskView, now: float) -> list[EventView]:
    """The newest Events about this task (matched by name, and UID when they carry one)."""
    zone = load_zone(view.zone)
    mine = []
    for obj in feed.objects.values():
        involved = _dict(obj.get("involvedObject"))
        if involved.get("name") != view.name or involved.get("namespace") != view.namespace:
            continue
        if involved.get("uid") and view.uid and involved.get("uid") != view.uid:
            continue  # an older task of the same name
        mine.append(obj)
    mine.sort(key=_event_time, reverse=True)
    shown = []
    for obj in mine[:MAX_EVENTS]:
        when = _parse_time(_event_time(obj))
        shown.append(
            EventView(
                type=str(obj.get("type") or "Normal"),
                reason=str(obj.get("reason") or ""),
                message=str(obj.get("message") or "")[:500],
                count=int(obj.get("count") or 1),
                when=moment(when, zone, now) if when else None,
            )
        )
    return shown


@dataclass(frozen=True, slots=True)
class Window:
    """Which days the upcoming list shows: ``?from=YYYY-MM-DD&days=N``."""

    start: dt.date | None
    days: int
    problem: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Window:
        problem = None
        start = None
        text = query.get("from", "").strip()
        if text:
            try:
                start = dt.date.fromisoformat(text)
            except ValueError:
                problem = f"from={text!r} is not a date (YYYY-MM-DD); showing from today"
        try:
            days = int(query.get("days", DEFAULT_DAYS))
        except ValueError:
            days = DEFAULT_DAYS
        return cls(start, max(1, min(days, MAX_DAYS)), problem)

    def query(self) -> dict[str, str]:
        """The window as query parameters (for a URL, through urlencode)."""
        start = {"from": self.start.isoformat()} if self.start is not None else {}
        return {**start, "days": str(self.days)}


def task_calendar(view: TaskView, window: Window, now: float) -> tuple[Calendar | None, str]:
    if view.task is None:
        return None, view.problem or "the task does not parse"
    zone = load_zone(view.zone)
    start = now
    if window.start is not None:
        start = dt.datetime.combine(window.start, dt.time(12), zone).timestamp()
    try:
        return upcoming_days(view.task.spec, view.uid, start, window.days, now=now), ""
    except ScheduleError as err:
        return None, str(err)


def task_context(
    view: TaskView,
    events: Feed,
    access: Access,
    window: Window,
    now: float,
) -> Context:
    calendar, calendar_problem = task_calendar(view, window, now)
    return {
        "view": view,
        "events": task_events(events, view, now),
        "events_error": events.error,
        "access": access,
        "calendar": calendar,
        "calendar_problem": calendar_problem or window.problem,
        "window": window,
        "max_days": MAX_DAYS,
    }


def find_task(feed: Feed, namespace: str, name: str, now: float) -> TaskView | None:
    obj = feed.objects.get(f"{namespace}/{name}")
    return task_view(obj, now) if obj is not None else None


# -- the herd chart --------------------------------------------------------------------


def chart_zone(query: Mapping[str, str]) -> tuple[dt.tzinfo, str, str | None]:
    """The zone of ``?tz=`` (default UTC), its name, and a problem to show."""
    name = query.get("tz", "UTC").strip() or "UTC"
    try:
        return load_zone(name), name, None
    except TimeZoneError as err:
        return dt.UTC, "UTC", f"{err}; showing UTC"


def herd_context(
    feed: Feed, now: float, namespace: str, zone: dt.tzinfo, zone_name: str
) -> Context:
    tasks = [view.task for view in (task_view(o, now) for o in feed.objects.values())]
    chart: Herds = herds([t for t in tasks if t is not None], now, zone)
    invalid = sum(1 for t in tasks if t is None)
    height = max(chart.busiest, 1)
    return {
        "namespace": namespace,
        "chart": chart,
        "zone_name": zone_name,
        "bar_scale": 100.0 / height,
        "invalid": invalid,
        "error": feed.error,
    }
