"""How far ``upcoming`` (status.upcomingScheduleTimes, ``kron next``) looks ahead.

A tick that is not excluded is found at any distance inside the supported range.
Walking over excluded ticks is bounded in steps and in time, and an excluded stretch
is skipped at once, however long it is and however many DST changes it spans.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schedule_support import instant, local

from kron.schedule import (
    UPCOMING_EXCLUDED_SPAN,
    UPCOMING_SCAN_LIMIT,
    Tick,
    compile_timeline,
)

NOW = instant("2026-11-23T12:00:00Z")
YEAR = 366 * 86_400


def nominals(ticks: Iterable[Tick], zone: str = "UTC") -> list[str]:
    return [local(t.nominal, zone) for t in ticks]


def test_a_one_off_two_centuries_away_is_found() -> None:
    for exclude in ([], ["* * 25 12 *"]):
        timeline = compile_timeline(
            schedules=["@at 2200-01-01T00:00:00Z"], exclude=exclude, time_zone="Europe/Berlin"
        )
        assert nominals(timeline.upcoming(NOW, 5)) == ["2200-01-01T00:00:00+00:00"]


def test_a_tick_near_the_end_of_the_supported_range_is_found() -> None:
    timeline = compile_timeline(schedules=["@at 9998-12-31T23:59:59Z"], jitter_seconds=60)
    ticks = timeline.upcoming(NOW, 5)
    assert nominals(ticks) == ["9998-12-31T23:59:59+00:00"]
    assert ticks[0].fire_at >= ticks[0].nominal


def test_rare_days_decades_apart_are_all_found() -> None:
    # Feb 29 on a Monday: 2044, 2072, then (2100 is no leap year) 2112, 2140, 2168.
    zone = "America/New_York"
    timeline = compile_timeline(schedules=["0 12 ? 2 MON#5"], time_zone=zone)
    assert [text[:10] for text in nominals(timeline.upcoming(NOW, 5), zone)] == [
        "2044-02-29",
        "2072-02-29",
        "2112-02-29",
        "2140-02-29",
        "2168-02-29",
    ]


def test_an_excluded_stretch_spanning_dst_changes_is_skipped_in_one_step() -> None:
    zone = "Europe/Berlin"
    timeline = compile_timeline(
        schedules=["*/30 * * * *"], time_zone=zone, exclude=["* * * 3-10 *"]
    )
    first = instant("2030-03-01T00:00:00+01:00")
    resume, used = timeline._excluded_until(first, first + YEAR, UPCOMING_SCAN_LIMIT)
    assert resume is not None and local(resume, zone) == "2030-11-01T00:00:00+01:00"
    assert used == 1
    assert nominals(timeline.upcoming(first - 3600, 2), zone) == [
        "2030-02-28T23:30:00+01:00",
        "2030-11-01T00:00:00+01:00",
    ]


def test_exclusions_taking_turns_are_skipped_as_one_stretch() -> None:
    zone = "Australia/Lord_Howe"
    timeline = compile_timeline(
        schedules=["0 * * * *"],
        time_zone=zone,
        exclude=["* * * 1-4 *", "* * * 5-8 *", "* * 1-14 9 *"],
    )
    first = instant("2030-01-10T01:00:00+11:00")
    resume, used = timeline._excluded_until(first, first + YEAR, UPCOMING_SCAN_LIMIT)
    assert resume is not None and local(resume, zone) == "2030-09-15T00:00:00+10:30"
    assert used == 3
    assert nominals(timeline.upcoming(instant("2030-01-01T00:00:00+11:00"), 2), zone) == [
        "2030-09-15T00:00:00+10:30",
        "2030-09-15T01:00:00+10:30",
    ]


def test_exclusions_covering_everything_give_nothing_after_bounded_work() -> None:
    covering = [
        ["* * * * *"],
        ["* * * * 1-5", "* * * * 0,6"],
        ["* 0-11 * * *", "* 12-23 * * *"],
        [f"* * * * {day}" for day in range(7)],
        ["* * 1-27,L-3,L-2,L-1,L * *"],  # every day, spelt with L
    ]
    for exclude in covering:
        for zone in ("UTC", "America/Chicago", "Australia/Lord_Howe"):
            timeline = compile_timeline(schedules=["*/5 * * * *"], exclude=exclude, time_zone=zone)
            assert timeline.upcoming(NOW, 5) == [], (exclude, zone)


def test_excluded_ticks_are_skipped_for_at_most_the_excluded_span() -> None:
    # Every New Year's Day tick is excluded; a one-off behind them is found while the
    # excluded ticks before it span less than UPCOMING_EXCLUDED_SPAN, not beyond.
    assert 99 * YEAR < UPCOMING_EXCLUDED_SPAN < 101 * YEAR
    for year, found in ((2100, True), (2200, False)):
        timeline = compile_timeline(
            schedules=["0 0 1 1 *", f"@at {year}-06-01T00:00:00Z"], exclude=["* * 1 1 *"]
        )
        expected = [f"{year}-06-01T00:00:00+00:00"] if found else []
        assert nominals(timeline.upcoming(NOW, 1)) == expected


def test_every_tick_excluded_ends_within_the_step_budget() -> None:
    # Weekday mornings, weekdays excluded: one step per tick and per stretch.
    timeline = compile_timeline(
        schedules=[f"{minute} 9 * * 1-5" for minute in range(16)], exclude=["* * * * 1-5"]
    )
    assert timeline.upcoming(NOW, 5) == []


def test_jittered_upcoming_after_a_skipped_stretch_matches_next_tick() -> None:
    timeline = compile_timeline(
        schedules=["0 9 * * *"],
        exclude=["* * * 12 *", "* * 1-6 1 *"],
        jitter_seconds=7200,
        jitter_seed="uid",
        time_zone="Europe/Berlin",
    )
    after = instant("2026-11-29T12:00:00Z")
    upcoming = timeline.upcoming(after, 3)
    expected, cursor = [], after
    while len(expected) < 3:
        tick = timeline.next_tick(cursor)
        assert tick is not None
        if not tick.excluded:
            expected.append(tick)
        cursor = tick.nominal
    assert upcoming == expected
    assert nominals(upcoming, "Europe/Berlin") == [
        "2026-11-30T09:00:00+01:00",
        "2027-01-07T09:00:00+01:00",
        "2027-01-08T09:00:00+01:00",
    ]


LONG_EXCLUSIONS = [
    "* * * 3-10 *",
    "* * * 11,12 *",
    "* * 1-20 * *",
    "* * * * 1-5",
    "* * L * *",
    "* * * * SUN#1,SUN#2",
    "* 0-22 * * *",
    "* * 2-31 * *",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=st.sampled_from(["0 * * * *", "*/30 * * * *", "0 9 * * *", "0 0 L * *", "@every 7h"]),
    exclude=st.lists(st.sampled_from(LONG_EXCLUSIONS), min_size=1, max_size=3, unique=True),
    zone=st.sampled_from(
        ["UTC", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia"]
    ),
    after=st.integers(instant("1995-01-01T00:00:00Z"), instant("2035-01-01T00:00:00Z")),
)
def test_upcoming_is_next_tick_without_excluded_ones_across_long_stretches(
    schedule: str, exclude: list[str], zone: str, after: int
) -> None:
    timeline = compile_timeline(schedules=[schedule], exclude=exclude, time_zone=zone)
    expected: list[Tick] = []
    cursor = after
    for _ in range(5_000):  # bounded: a bug must fail, not hang
        tick = timeline.next_tick(cursor)
        if tick is None or len(expected) == 3:
            break
        if not tick.excluded:
            expected.append(tick)
        cursor = tick.nominal
    upcoming = timeline.upcoming(after, 3)
    assert upcoming[: len(expected)] == expected
    assert all(tick.nominal > cursor for tick in upcoming[len(expected) :])
