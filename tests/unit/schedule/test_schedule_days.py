"""Day sets and the day rule against a brute-force reference: which wall-clock days a
task's calendars exclude, and that skipping ahead never jumps over an allowed day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from kron.schedule import DayRule, DaySet, compile_timeline
from kron.schedule.days import day_of, day_start
from kron.schedule.limits import SECONDS_PER_DAY
from kron.schedule.months import longest_month

BASE = dt.date(2026, 1, 1).toordinal()
SPAN = 800  # days examined: more than two years, so yearly entries recur

ranges = st.lists(
    st.tuples(st.integers(0, SPAN), st.integers(0, 40)).map(
        lambda r: (BASE + r[0], BASE + r[0] + r[1])
    ),
    max_size=6,
)
yearly = st.lists(st.tuples(st.integers(1, 12), st.integers(1, 29)), max_size=4)
day_sets = st.builds(DaySet, ranges, yearly)


def reference_contains(
    ranges_: list[tuple[int, int]], yearly_: list[tuple[int, int]], d: int
) -> bool:
    date = dt.date.fromordinal(d)
    return any(a <= d <= b for a, b in ranges_) or (date.month, date.day) in set(yearly_)


@given(ranges, yearly)
def test_membership_matches_the_reference(
    r: list[tuple[int, int]], y: list[tuple[int, int]]
) -> None:
    days = DaySet(r, y)
    for d in range(BASE - 5, BASE + SPAN + 50):
        assert (d in days) == reference_contains(r, y, d)


@given(day_sets, st.integers(0, SPAN))
def test_next_member_is_the_first_member_at_or_after(days: DaySet, offset: int) -> None:
    start = BASE + offset
    found = days.next_member(start)
    brute = next((d for d in range(start, start + 9 * 366) if d in days), None)
    assert found == brute


@given(
    st.one_of(st.none(), day_sets),
    st.one_of(st.none(), day_sets),
    st.integers(0, SPAN * SECONDS_PER_DAY),
    st.integers(1, 400 * SECONDS_PER_DAY),
)
def test_next_mismatch_skips_only_excluded_days(
    exclude: DaySet | None, only: DaySet | None, offset: int, horizon: int
) -> None:
    rule = DayRule(exclude, only)
    wall = day_start(BASE) + offset
    limit = wall + horizon
    if not rule.matches(wall):
        return
    answer = rule.next_mismatch(wall, limit)
    assert wall < answer <= limit
    # Every day before the answer is excluded ...
    for d in range(day_of(wall), day_of(answer - 1) + 1):
        assert rule.excludes_day(d), dt.date.fromordinal(d)
    # ... and the answer is an allowed day's start, or the limit.
    if answer < limit:
        assert not rule.excludes_day(day_of(answer))
        assert answer % SECONDS_PER_DAY == 0


def test_union_is_every_day_of_any_set() -> None:
    a = DaySet([(BASE, BASE + 2)], [(12, 25)])
    b = DaySet([(BASE + 2, BASE + 5)], [(1, 1)])
    both = DaySet.union([a, b])
    assert {d for d in range(BASE, BASE + 400) if d in both} == {
        d for d in range(BASE, BASE + 400) if d in a or d in b
    }
    assert DaySet([(1, 2)], [(3, 4)]) == DaySet([(1, 1), (2, 2)], [(3, 4), (3, 4)])


def test_leap_day_recurs_only_in_leap_years() -> None:
    days = DaySet(yearly=[(2, 29)])
    assert dt.date(2028, 2, 29).toordinal() in days
    assert days.next_member(dt.date(2026, 3, 1).toordinal()) == dt.date(2028, 2, 29).toordinal()


def _wall_days(
    timeline_days: DayRule, zone: str, schedule: str, after: int, count: int
) -> list[str]:
    timeline = compile_timeline(schedules=[schedule], time_zone=zone, days=timeline_days)
    return [
        dt.datetime.fromtimestamp(t.fire_at, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        for t in timeline.upcoming(after, count)
    ]


def test_a_tick_belongs_to_its_wall_clock_day_in_the_task_zone() -> None:
    christmas = DayRule(DaySet([(dt.date(2026, 12, 25).toordinal(),) * 2]))
    after = int(dt.datetime(2026, 12, 24, 12, tzinfo=dt.UTC).timestamp())
    # 23:30 on the 24th in Tokyo is 14:30 UTC: not Christmas there, fires.
    assert _wall_days(christmas, "Asia/Tokyo", "30 23 * * *", after, 2) == [
        "2026-12-24 23:30",
        "2026-12-26 23:30",
    ]
    # In UTC the tick of the 25th is skipped; jitter-free ticks of the 24th and 26th fire.
    assert _wall_days(christmas, "UTC", "0 12 * * *", after - 86_400, 2) == [
        "2026-12-24 12:00",
        "2026-12-26 12:00",
    ]


def test_a_tick_moved_by_spring_forward_stays_on_its_day() -> None:
    # America/New_York, 2026-03-08: 02:30 does not exist and fires at 03:00 that day.
    spring = dt.date(2026, 3, 8).toordinal()
    after = int(dt.datetime(2026, 3, 7, 12, tzinfo=dt.UTC).timestamp())
    allowed_only_that_day = DayRule(only=DaySet([(spring, spring)]))
    assert _wall_days(allowed_only_that_day, "America/New_York", "30 2 * * *", after, 2) == [
        "2026-03-08 03:00"
    ]


def test_restricting_to_days_that_never_come_gives_no_upcoming_time() -> None:
    past = DayRule(only=DaySet([(BASE - 400, BASE - 300)]))
    timeline = compile_timeline(schedules=["* * * * * *"], days=past)
    assert timeline.upcoming(day_start(BASE), 5) == []
    tick = timeline.next_tick(day_start(BASE))
    assert tick is not None and tick.excluded


_MONTH_DAYS = st.sampled_from(
    [(m, d) for m in range(1, 13) for d in range(1, longest_month(m) + 1)]
)


@given(
    yearly=st.lists(_MONTH_DAYS, min_size=1, max_size=40),
    start=st.dates(dt.date(1900, 1, 1), dt.date(2400, 12, 31)),
)
def test_the_next_yearly_day_is_the_first_one_day_by_day(
    yearly: list[tuple[int, int]], start: dt.date
) -> None:
    days = DaySet(yearly=yearly)
    wanted = set(yearly)
    expected = None
    for offset in range(9 * 366):  # 29 February alone recurs within 8 years
        day = start + dt.timedelta(days=offset)
        if (day.month, day.day) in wanted:
            expected = day.toordinal()
            break
    assert days.next_member(start.toordinal()) == expected
    assert (start.toordinal() in days) == ((start.month, start.day) in wanted)
