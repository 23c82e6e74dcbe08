"""status.upcomingScheduleTimes describes the plan the status was written for.

When a look-ahead keeps running out of budget, the engine backs it off
(`TaskInput.look_ahead` False) and the previous list is kept. It is kept only while it
still describes the same plan: an edit of the schedule fields, a Calendar whose days
changed, or a task held and released recompute it, and fire times that came are dropped.
"""

from __future__ import annotations

import datetime as dt

from kron.api.calendar import CalendarSpec
from kron.planner import CalendarState, calendar_days, plan
from support.planning import T0, spec, task

HOUR = 3600


def _times(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.isoformat()[:16] for t in result.status.upcoming_schedule_times]


def _calendar(*dates: str) -> CalendarState:
    entries = [{"date": d, "description": "x"} for d in dates]
    return CalendarState(calendar_days(CalendarSpec.model_validate({"entries": entries})))


def test_a_schedule_edit_recomputes_the_list_while_the_look_ahead_backs_off() -> None:
    hourly = spec(schedule="0 * * * *")
    first = plan(task(hourly), T0 + 60.5)
    assert _times(first)[0] == "2026-01-01T01:00"
    daily = spec(schedule="30 9 * * *")
    edited = plan(task(daily, status=first.status, generation=2, look_ahead=False), T0 + 120.5)
    assert _times(edited) == [f"2026-01-0{d}T09:30" for d in range(1, 6)]
    assert edited.status.next_schedule_time == dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC)


def test_a_calendar_change_recomputes_the_list_while_the_look_ahead_backs_off() -> None:
    s = spec(schedule="0 12 * * *", excludeCalendars=["holidays"])
    first = plan(task(s, calendars={"holidays": _calendar("2026-01-02")}), T0 + 0.5)
    assert _times(first)[:2] == ["2026-01-01T12:00", "2026-01-03T12:00"]
    changed = plan(
        task(
            s,
            status=first.status,
            calendars={"holidays": _calendar("2026-01-01", "2026-01-03")},
            look_ahead=False,
        ),
        T0 + 1.5,
    )
    assert _times(changed)[:3] == ["2026-01-02T12:00", "2026-01-04T12:00", "2026-01-05T12:00"]


def test_fire_times_that_came_leave_the_kept_list() -> None:
    s = spec(schedule="0 * * * *")
    first = plan(task(s), T0 + 0.5)
    assert _times(first)[0] == "2026-01-01T01:00"
    later = plan(task(s, status=first.status, look_ahead=False), T0 + 2 * HOUR + 0.5)
    assert _times(later) == ["2026-01-01T03:00", "2026-01-01T04:00", "2026-01-01T05:00"]
    assert later.status.next_schedule_time == dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)


def test_a_task_released_from_suspend_gets_its_list_back_while_backing_off() -> None:
    suspended = plan(task(spec(schedule="0 * * * *", suspend=True)), T0 + 0.5)
    assert _times(suspended) == []
    resumed = plan(
        task(spec(schedule="0 * * * *"), status=suspended.status, generation=2, look_ahead=False),
        T0 + 60.5,
    )
    assert _times(resumed)[0] == "2026-01-01T01:00"
