"""The engine's Calendar index: a calendar edit wakes exactly the tasks that name it,
and a broken calendar reaches only them."""

from __future__ import annotations

from typing import Any

from kron.engine.calendars import read_calendar
from support.engine import T0, Clock, engine, task_object


def calendar(
    name: str, namespace: str, entries: list[dict[str, Any]], rv: int = 1
) -> dict[str, Any]:
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "Calendar",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv)},
        "spec": {"entries": entries},
    }


NEW_YEAR = [{"date": "--01-01", "description": "New Year"}]


def ready(e, uid: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    entry = e.tasks[uid]
    c = next(c for c in entry.status.conditions if c.type == "Ready")
    return c.status, c.reason


def test_an_edit_wakes_exactly_the_tasks_that_name_the_calendar() -> None:
    clock = Clock(T0 + 3600)
    e = engine(clock)
    e.observe_task(None, task_object("a", "ns", "uid-a", {"excludeCalendars": ["holidays"]}))
    e.observe_task(None, task_object("b", "ns", "uid-b"))
    e.observe_task(None, task_object("c", "other", "uid-c", {"excludeCalendars": ["holidays"]}))
    e.turn(clock())
    assert ready(e, "uid-a") == ("False", "CalendarNotFound")
    assert ready(e, "uid-c") == ("False", "CalendarNotFound")
    assert ready(e, "uid-b") == ("True", "Scheduled")
    woken: list[str] = []
    e.wake = lambda uid, when=None: woken.append(uid)  # type: ignore[method-assign]
    e.calendars.observe("ADDED", calendar("holidays", "ns", NEW_YEAR))
    assert woken == ["uid-a"]
    e.calendars.observe("MODIFIED", calendar("holidays", "ns", NEW_YEAR, rv=2))  # same days
    assert woken == ["uid-a"]
    edited = [*NEW_YEAR, {"date": "2026-01-02", "description": "bridge day"}]
    e.calendars.observe("MODIFIED", calendar("holidays", "ns", edited, rv=3))
    assert woken == ["uid-a", "uid-a"]
    e.calendars.observe("DELETED", calendar("holidays", "ns", edited, rv=4))
    assert woken == ["uid-a"] * 3


def test_a_task_that_drops_a_calendar_is_no_longer_woken_by_it() -> None:
    clock = Clock(T0 + 3600)
    e = engine(clock)
    e.observe_task(None, task_object("a", "ns", "uid-a", {"excludeCalendars": ["holidays"]}))
    assert e.calendars.referrers("ns", "holidays") == {"uid-a"}
    e.observe_task(None, task_object("a", "ns", "uid-a", generation=2, rv=2))
    assert e.calendars.referrers("ns", "holidays") == frozenset()
    e.observe_task("DELETED", task_object("a", "ns", "uid-a", rv=3))
    assert e.calendars._refs == {}


def test_a_broken_calendar_fails_only_the_tasks_that_use_it() -> None:
    clock = Clock(T0 + 3600)
    e = engine(clock)
    bad = [{"date": "2027-02-29", "description": "no such day"}]
    e.calendars.observe("ADDED", calendar("broken", "ns", bad))
    e.calendars.observe("ADDED", calendar("fine", "ns", NEW_YEAR))
    e.observe_task(None, task_object("a", "ns", "uid-a", {"restrictToCalendars": ["broken"]}))
    e.observe_task(None, task_object("b", "ns", "uid-b", {"excludeCalendars": ["fine"]}))
    e.turn(clock())
    assert ready(e, "uid-a") == ("False", "InvalidCalendar")
    assert ready(e, "uid-b") == ("True", "Scheduled")
    message = next(c.message for c in e.tasks["uid-a"].status.conditions if c.type == "Ready")
    assert "2027-02-29" in message


def test_unreadable_calendars_are_a_reason_never_an_exception() -> None:
    assert read_calendar("x").problem == "spec: must be an object"
    assert read_calendar({"entries": "x"}).days is None
    huge = {"entries": [{"date": "--01-01", "description": "d" * 10_000}] * 2000}
    state = read_calendar(huge)
    assert state.days is None and len(state.problem) <= 600
