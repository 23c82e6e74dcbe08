"""What a hostile set of Calendars may cost one plan: counted in steps, never in time.

Every day of a task's Calendars can be excluded one way or the other (restricted to
the odd days of every month, and those same days excluded), so the look-ahead walks
day by day and finds nothing. The work is counted where it is done (each calendar day
judged, each date built for a yearly lookup), so these tests fail on unbounded or
linear work whatever the machine's speed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kron.api.calendar import CalendarSpec
from kron.api.constants import MAX_CALENDAR_ENTRIES
from kron.planner import CalendarState, Reason, calendar_days, plan
from kron.planner.budget import PASS_STEPS
from kron.planner.finish import BEYOND_LOOK_AHEAD
from kron.planner.ticks import SCAN_LIMIT
from kron.schedule import UPCOMING_SCAN_LIMIT, DayRule, DaySet
from kron.schedule import days as days_module
from kron.schedule.months import longest_month
from support.planning import T0, spec, task

ODD_DAYS = [f"--{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, longest_month(m) + 1, 2)]
EVERY_DAY = [f"--{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, longest_month(m) + 1)]


def _calendar(dates: list[str]) -> CalendarState:
    entries = [{"date": d, "description": "x"} for d in dates]
    return CalendarState(calendar_days(CalendarSpec.model_validate({"entries": entries})))


def _single_days(first: dt.date, count: int) -> CalendarState:
    """`count` single-day ranges two days apart (they never merge into one range)."""
    entries = [
        {"date": (first + dt.timedelta(days=2 * i)).isoformat(), "description": "x"}
        for i in range(count)
    ]
    return CalendarState(calendar_days(CalendarSpec.model_validate({"entries": entries})))


@contextmanager
def counted_days(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts every calendar day a DayRule judges."""
    calls = [0]
    judge = DayRule.excludes_day

    def counting(self: DayRule, ordinal: int) -> bool:
        calls[0] += 1
        return judge(self, ordinal)

    monkeypatch.setattr(DayRule, "excludes_day", counting)
    yield calls


class _CountingDates:
    """Stands in for the `datetime` module inside kron.schedule.days and counts the
    dates it builds for yearly lookups."""

    MAXYEAR = dt.MAXYEAR

    def __init__(self) -> None:
        self.built = 0
        outer = self

        class _Date(dt.date):
            def __new__(cls, *args: Any, **kwargs: Any) -> Any:
                outer.built += 1
                return dt.date.__new__(dt.date, *args, **kwargs)

            @staticmethod
            def fromordinal(ordinal: int) -> dt.date:
                return dt.date.fromordinal(ordinal)

        self.date = _Date


def test_a_plan_judges_a_bounded_number_of_days_however_hostile_the_calendars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = spec(schedule="0 9 * * *", restrictToCalendars=["odd"], excludeCalendars=["also-odd"])
    calendars = {"odd": _calendar(ODD_DAYS), "also-odd": _calendar(ODD_DAYS)}
    with counted_days(monkeypatch) as calls:
        result = plan(task(s, calendars=calendars), T0 + 9 * 3600 + 0.5)
    # One judgement per due tick examined and per look-ahead step, nothing per year
    # of the 100 years the excluded span would otherwise allow.
    assert 0 < calls[0] <= SCAN_LIMIT + UPCOMING_SCAN_LIMIT + PASS_STEPS
    assert result.creates == [] and result.status.counts.excluded == 1
    assert result.status.upcoming_schedule_times == []
    ready = next(c for c in result.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == (
        "True",
        Reason.SCHEDULED,
        BEYOND_LOOK_AHEAD,
    )


def test_ticks_on_thousands_of_single_excluded_days_cost_one_step_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tick every other day, each on one of 8 Calendars x 1,000 single excluded days
    # (two days apart, so they never merge): 44 years of excluded ticks, more than
    # the look-ahead's steps reach.
    s = spec(schedule="@every 48h", excludeCalendars=[f"c{i}" for i in range(8)])
    first = dt.date(2026, 1, 1)
    assert (first.toordinal() - dt.date(1970, 1, 1).toordinal()) % 2 == 0  # a tick's day
    calendars = {
        f"c{i}": _single_days(first + dt.timedelta(days=2_000 * i), MAX_CALENDAR_ENTRIES)
        for i in range(8)
    }
    with counted_days(monkeypatch) as calls:
        result = plan(task(s, calendars=calendars), T0 + 0.5)
    assert 0 < calls[0] <= SCAN_LIMIT + UPCOMING_SCAN_LIMIT + PASS_STEPS
    assert result.status.counts.excluded == 1
    assert result.status.upcoming_schedule_times == []
    ready = next(c for c in result.status.conditions if c.type == "Ready")
    assert ready.message == BEYOND_LOOK_AHEAD


def test_a_yearly_lookup_builds_a_few_dates_whatever_the_calendar_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    every = calendar_days(
        CalendarSpec.model_validate(
            {"entries": [{"date": d, "description": "x"} for d in EVERY_DAY if d != "--12-31"]}
        )
    )
    leap_only = DaySet(yearly=[(2, 29)])
    dates = _CountingDates()
    monkeypatch.setattr(days_module, "dt", dates)
    late = dt.date(2027, 12, 31).toordinal()
    assert every.next_member(late) == dt.date(2028, 1, 1).toordinal()
    assert late not in every and late - 1 in every
    assert dates.built <= 4
    dates.built = 0
    assert (
        leap_only.next_member(dt.date(2097, 3, 1).toordinal()) == dt.date(2104, 2, 29).toordinal()
    )
    # 2097 to 2104, one or two tries a year (2100 is no leap year).
    assert dates.built <= 2 * 9
