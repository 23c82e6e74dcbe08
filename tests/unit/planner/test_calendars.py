"""Planner: tasks that exclude or are restricted to Calendars' days."""

from __future__ import annotations

import datetime as dt

from kron.api import RunResult
from kron.api.calendar import CalendarSpec
from kron.planner import CalendarState, Reason, calendar_days, plan, schedule_fingerprint
from support.planning import T0, spec, task

# T0 is 2026-01-01T00:00:00Z, a Thursday: New Year's Day.
NEW_YEAR = CalendarState(
    calendar_days(
        CalendarSpec.model_validate({"entries": [{"date": "--01-01", "description": "New Year"}]})
    )
)
JANUARY_2 = CalendarState(
    calendar_days(
        CalendarSpec.model_validate(
            {"entries": [{"date": "2026-01-02", "through": "2026-01-02", "description": "x"}]}
        )
    )
)


def ready(p):  # type: ignore[no-untyped-def]
    c = next(c for c in p.status.conditions if c.type == "Ready")
    return c.status, c.reason, c.message


def test_a_tick_on_an_excluded_day_is_counted_excluded_and_does_not_run() -> None:
    s = spec(schedule="0 12 * * *", excludeCalendars=["holidays"])
    result = plan(task(s, calendars={"holidays": NEW_YEAR}), T0 + 12 * 3600 + 0.5)
    assert result.creates == []
    assert result.status.counts.excluded == 1
    assert result.status.history[0].result is RunResult.EXCLUDED
    # The next fire time skips the holiday: 2 January noon.
    assert result.status.next_schedule_time == dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC)
    nxt = plan(
        task(s, status=result.status, calendars={"holidays": NEW_YEAR}), T0 + 36 * 3600 + 0.5
    )
    assert [c.nominal for c in nxt.creates] == [T0 + 36 * 3600]


def test_restricted_tasks_fire_only_on_the_calendars_days() -> None:
    s = spec(schedule="0 12 * * *", restrictToCalendars=["open"])
    result = plan(task(s, calendars={"open": JANUARY_2}), T0 + 12 * 3600 + 0.5)
    assert result.creates == [] and result.status.counts.excluded == 1
    assert [t.isoformat() for t in result.status.upcoming_schedule_times] == [
        "2026-01-02T12:00:00+00:00"
    ]


def test_exclusion_wins_over_restriction() -> None:
    s = spec(schedule="0 12 * * *", excludeCalendars=["a"], restrictToCalendars=["b"])
    result = plan(task(s, calendars={"a": JANUARY_2, "b": JANUARY_2}), T0)
    assert result.status.upcoming_schedule_times == []


def test_a_missing_calendar_stops_the_task_with_a_clear_condition() -> None:
    s = spec(excludeCalendars=["holidays"])
    result = plan(task(s), T0 + 120.5)
    assert result.creates == []
    status, reason, message = ready(result)
    assert (status, reason) == ("False", Reason.CALENDAR_NOT_FOUND)
    assert "'holidays'" in message
    assert [e.reason for e in result.events] == [Reason.CALENDAR_NOT_FOUND]
    stalled = next(c for c in result.status.conditions if c.type == "Stalled")
    assert stalled.status == "True"


def test_an_invalid_calendar_stops_only_the_task_with_its_problem() -> None:
    broken = CalendarState(None, "spec.entries[0].date: 29 February exists only in leap years")
    s = spec(restrictToCalendars=["days"])
    result = plan(task(s, calendars={"days": broken}), T0 + 120.5)
    status, reason, message = ready(result)
    assert (status, reason) == ("False", Reason.INVALID_CALENDAR)
    assert "leap years" in message and result.creates == []


def test_a_fixed_calendar_is_an_edit_no_backlog_fires() -> None:
    s = spec(excludeCalendars=["holidays"])
    missing = plan(task(s), T0 + 60.5)
    # An hour later the calendar exists: no tick of that hour fires, the next one does.
    later = T0 + 3600 + 60.5
    fixed = plan(task(s, status=missing.status, calendars={"holidays": JANUARY_2}), later)
    assert fixed.creates == []
    assert ready(fixed)[1] == Reason.SCHEDULED
    nxt = plan(task(s, status=fixed.status, calendars={"holidays": JANUARY_2}), T0 + 3600 + 120.5)
    assert [c.nominal for c in nxt.creates] == [T0 + 3600 + 120]


def test_calendar_names_enter_the_schedule_fingerprint_only_when_set() -> None:
    plain = spec()
    assert schedule_fingerprint(plain) == schedule_fingerprint(spec(excludeCalendars=None))
    assert schedule_fingerprint(plain) != schedule_fingerprint(spec(excludeCalendars=["a"]))
    assert schedule_fingerprint(plain) != schedule_fingerprint(spec(maxRuns=3))


def test_ticks_due_while_a_calendar_was_missing_are_counted_missed_not_lost() -> None:
    # Noon ticks; the Calendar is deleted on 1 January at 13:00 and created again on
    # 4 January at 10:00: the noon ticks of 2 and 3 January were never evaluated.
    s = spec(schedule="0 12 * * *", excludeCalendars=["holidays"])
    before = plan(task(s, calendars={"holidays": JANUARY_2}), T0 + 12 * 3600 + 0.5)
    assert [c.nominal for c in before.creates] == [T0 + 12 * 3600]
    missing = plan(task(s, status=before.status), T0 + 13 * 3600)
    assert ready(missing)[1] == Reason.CALENDAR_NOT_FOUND
    assert missing.status.last_schedule_time == before.status.last_schedule_time
    back = plan(task(s, status=missing.status, calendars={"holidays": JANUARY_2}), T0 + 82 * 3600)
    assert back.creates == []
    # 2 January is a holiday of the Calendar (excluded), 3 January is missed, with why.
    assert (back.status.counts.excluded, back.status.counts.missed) == (1, 1)
    assert back.tallies[("missed", Reason.CALENDAR_NOT_FOUND)] == 1
    missed = next(h for h in back.status.history if h.result is RunResult.MISSED)
    assert missed.scheduled_time == dt.datetime(2026, 1, 3, 12, tzinfo=dt.UTC)
    assert missed.message is not None and Reason.CALENDAR_NOT_FOUND in missed.message
    assert any(e.reason == "Missed" for e in back.events)
    assert back.status.last_schedule_time == dt.datetime(2026, 1, 3, 12, tzinfo=dt.UTC)
    assert ready(back)[1] == Reason.SCHEDULED
    # The next tick fires as usual.
    nxt = plan(task(s, status=back.status, calendars={"holidays": JANUARY_2}), T0 + 84 * 3600 + 0.5)
    assert [c.nominal for c in nxt.creates] == [T0 + 84 * 3600]


def test_a_task_created_before_its_calendar_counts_the_ticks_until_then_missed() -> None:
    s = spec(schedule="0 * * * *", restrictToCalendars=["open"])
    waiting = plan(task(s), T0 + 0.5)
    assert ready(waiting)[1] == Reason.CALENDAR_NOT_FOUND
    every_day = CalendarState(
        calendar_days(
            CalendarSpec.model_validate({"entries": [{"date": "2026-01-01", "description": "x"}]})
        )
    )
    back = plan(task(s, status=waiting.status, calendars={"open": every_day}), T0 + 3 * 3600 + 1)
    assert back.creates == []
    assert back.status.counts.missed == 4  # 00:00 to 03:00, all due before it existed
