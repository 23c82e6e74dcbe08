"""Timelines: unions, windows, exclusions, upcoming, matches, compile-time checks."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from schedule_support import instant, local

from kron.schedule import (
    UPCOMING_SCAN_LIMIT,
    ScheduleError,
    Tick,
    Timeline,
    TimeZoneError,
    compile_timeline,
)


def nominals(ticks: Iterable[Tick], zone: str = "UTC") -> list[str]:
    return [local(t.nominal, zone) for t in ticks]


def walk(timeline: Timeline, after: str, count: int, zone: str = "UTC") -> list[tuple[str, bool]]:
    out, cursor = [], instant(after)
    for _ in range(count):
        tick = timeline.next_tick(cursor)
        if tick is None:
            break
        out.append((local(tick.nominal, zone), tick.excluded))
        cursor = tick.nominal
    return out


def test_union_fires_once_at_an_instant_matched_by_two_schedules() -> None:
    timeline = compile_timeline(schedules=["0 * * * *", "*/30 * * * *", "@every 1h"])
    assert nominals(
        timeline.ticks(instant("2030-01-01T00:00:00Z"), instant("2030-01-01T01:30:00Z"))
    ) == ["2030-01-01T00:30:00+00:00", "2030-01-01T01:00:00+00:00", "2030-01-01T01:30:00+00:00"]


def test_union_interleaves_cron_every_and_at() -> None:
    timeline = compile_timeline(
        schedules=["0 9 * * *", "@every 5h", "@at 2030-01-01T10:15:00Z"],
        time_zone="Europe/Berlin",
    )
    assert walk(timeline, "2030-01-01T00:00:00Z", 4, "Europe/Berlin") == [
        ("2030-01-01T06:00:00+01:00", False),  # 05:00Z, a multiple of 5 h since the epoch
        ("2030-01-01T09:00:00+01:00", False),
        ("2030-01-01T11:00:00+01:00", False),  # 10:00Z
        ("2030-01-01T11:15:00+01:00", False),  # the @at
    ]


def test_window_is_inclusive_at_both_ends() -> None:
    start, end = instant("2030-01-01T01:00:00Z"), instant("2030-01-01T03:00:00Z")
    timeline = compile_timeline(schedules=["0 * * * *"], start=start, end=end)
    assert nominals(timeline.ticks(0, instant("2031-01-01T00:00:00Z"))) == [
        "2030-01-01T01:00:00+00:00",
        "2030-01-01T02:00:00+00:00",
        "2030-01-01T03:00:00+00:00",
    ]
    assert timeline.next_tick(end) is None
    assert timeline.prev_tick(start) is None
    first = timeline.next_tick(0)
    last = timeline.prev_tick(instant("2031-01-01T00:00:00Z"))
    assert first is not None and first.nominal == start
    assert last is not None and last.nominal == end
    assert timeline.matches(start) and timeline.matches(end)
    assert not timeline.matches(end + 3600)
    assert timeline.upcoming(end, 5) == []


def test_window_ending_before_it_starts_has_no_ticks() -> None:
    timeline = compile_timeline(schedules=["* * * * *"], start=100_000, end=99_999)
    assert timeline.next_tick(0) is None
    assert timeline.prev_tick(10**9) is None


def test_christmas_exclusion_flags_every_tick_on_the_day() -> None:
    timeline = compile_timeline(schedules=["0 */8 * * *"], exclude=["* * 25 12 *"])
    assert walk(timeline, "2030-12-24T12:00:00Z", 5) == [
        ("2030-12-24T16:00:00+00:00", False),
        ("2030-12-25T00:00:00+00:00", True),
        ("2030-12-25T08:00:00+00:00", True),
        ("2030-12-25T16:00:00+00:00", True),
        ("2030-12-26T00:00:00+00:00", False),
    ]


def test_upcoming_skips_excluded_ticks() -> None:
    timeline = compile_timeline(schedules=["0 */8 * * *"], exclude=["* * 25 12 *"])
    upcoming = timeline.upcoming(instant("2030-12-24T12:00:00Z"), 3)
    assert nominals(upcoming) == [
        "2030-12-24T16:00:00+00:00",
        "2030-12-26T00:00:00+00:00",
        "2030-12-26T08:00:00+00:00",
    ]
    assert not any(t.excluded for t in upcoming)


def test_exclusions_are_read_in_the_task_zone() -> None:
    # Midnight in Tokyo on a Sunday is still Saturday in UTC.
    timeline = compile_timeline(
        schedules=["0 0 * * *"], time_zone="Asia/Tokyo", exclude=["* * * * SUN"]
    )
    assert walk(timeline, "2030-01-04T12:00:00+09:00", 3, "Asia/Tokyo") == [
        ("2030-01-05T00:00:00+09:00", False),  # Saturday
        ("2030-01-06T00:00:00+09:00", True),  # Sunday
        ("2030-01-07T00:00:00+09:00", False),
    ]


def test_five_field_exclusion_matches_every_second_of_its_minute() -> None:
    timeline = compile_timeline(schedules=["*/20 * * * * *"], exclude=["0 * * * *"])
    assert walk(timeline, "2030-01-01T00:59:30Z", 5) == [
        ("2030-01-01T00:59:40+00:00", False),
        ("2030-01-01T01:00:00+00:00", True),
        ("2030-01-01T01:00:20+00:00", True),
        ("2030-01-01T01:00:40+00:00", True),
        ("2030-01-01T01:01:00+00:00", False),
    ]


def test_six_field_exclusion_matches_only_its_seconds() -> None:
    timeline = compile_timeline(schedules=["*/20 * * * * *"], exclude=["0 0 * * * *"])
    assert walk(timeline, "2030-01-01T00:59:30Z", 3) == [
        ("2030-01-01T00:59:40+00:00", False),
        ("2030-01-01T01:00:00+00:00", True),
        ("2030-01-01T01:00:20+00:00", False),
    ]


def test_exclusion_of_a_collapsed_gap_tick_reads_its_wall_time_after_the_gap() -> None:
    # The 02:30 job fires at 03:00 EDT on the spring-forward day: an exclusion of
    # 03:00-03:59 catches it, one of hour 2 does not.
    zone = "America/New_York"
    after = "2024-03-10T00:00:00-05:00"
    late = compile_timeline(schedules=["30 2 * * *"], time_zone=zone, exclude=["* 3 * * *"])
    early = compile_timeline(schedules=["30 2 * * *"], time_zone=zone, exclude=["* 2 * * *"])
    assert walk(late, after, 1, zone) == [("2024-03-10T03:00:00-04:00", True)]
    assert walk(early, after, 1, zone) == [("2024-03-10T03:00:00-04:00", False)]


def test_upcoming_jumps_over_a_long_freeze() -> None:
    # Every 10 s with all of December frozen: the next runs are in January.
    timeline = compile_timeline(schedules=["*/10 * * * * *"], exclude=["* * * 12 *"])
    assert nominals(timeline.upcoming(instant("2030-11-30T23:59:40Z"), 3)) == [
        "2030-11-30T23:59:50+00:00",
        "2031-01-01T00:00:00+00:00",
        "2031-01-01T00:00:10+00:00",
    ]


def test_upcoming_jumps_over_a_freeze_spanning_a_dst_change() -> None:
    zone = "Europe/Berlin"
    timeline = compile_timeline(schedules=["*/30 * * * *"], time_zone=zone, exclude=["* * * 3 *"])
    assert nominals(timeline.upcoming(instant("2030-02-28T23:00:00+01:00"), 2), zone) == [
        "2030-02-28T23:30:00+01:00",
        "2030-04-01T00:00:00+02:00",
    ]


def test_upcoming_gives_up_when_exclusions_cover_everything() -> None:
    timeline = compile_timeline(schedules=["0 0 * * *"], exclude=["* * * * *"])
    assert timeline.upcoming(instant("2030-01-01T00:00:00Z"), 5) == []
    weekly = compile_timeline(schedules=["@weekly"], exclude=["* * * * 0,6"])
    assert weekly.upcoming(instant("2030-01-01T00:00:00Z"), 1) == []
    assert UPCOMING_SCAN_LIMIT >= 1000


def test_upcoming_returns_count_ticks_or_fewer_when_the_timeline_ends() -> None:
    every = compile_timeline(schedules=["@every 90s"])
    assert len(every.upcoming(0, 5)) == 5
    assert every.upcoming(0, 0) == []
    one_off = compile_timeline(schedules=["@at 2030-01-01T00:00:00Z"])
    assert nominals(one_off.upcoming(0, 5)) == ["2030-01-01T00:00:00+00:00"]


def test_upcoming_agrees_with_next_tick_when_nothing_is_excluded() -> None:
    timeline = compile_timeline(
        schedules=["*/7 9-17 * * MON-FRI", "@every 25m"],
        time_zone="America/New_York",
        jitter_seconds=600,
        jitter_seed="uid",
    )
    after = instant("2030-03-08T16:00:00-05:00")
    expected, cursor = [], after
    for _ in range(12):
        tick = timeline.next_tick(cursor)
        assert tick is not None
        expected.append(tick)
        cursor = tick.nominal
    assert timeline.upcoming(after, 12) == expected


def test_one_off_means_only_at_expressions() -> None:
    assert compile_timeline(schedules=["@at 2030-01-01T00:00:00Z"]).is_one_off
    assert compile_timeline(
        schedules=["@at 2030-01-01T00:00:00Z", "@at 2031-01-01T00:00:00Z"]
    ).is_one_off
    assert not compile_timeline(schedules=["@at 2030-01-01T00:00:00Z", "@daily"]).is_one_off
    assert not compile_timeline(schedules=["@every 1h"]).is_one_off


def test_one_off_ends_after_its_instant() -> None:
    timeline = compile_timeline(schedules=["@at 2030-01-01T00:00:00+02:00"])
    at = instant("2029-12-31T22:00:00Z")
    tick = timeline.next_tick(at - 1)
    assert tick == Tick(at, float(at), False)
    assert timeline.next_tick(at) is None
    assert timeline.prev_tick(at + 1) == tick
    assert timeline.prev_tick(at) is None


def test_compile_timeline_is_cached_on_its_arguments() -> None:
    first = compile_timeline(schedules=["0 9 * * *"], time_zone="Europe/Berlin", jitter_seed="a")
    again = compile_timeline(schedules=("0 9 * * *",), time_zone="Europe/Berlin", jitter_seed="a")
    other = compile_timeline(schedules=["0 9 * * *"], time_zone="Europe/Berlin", jitter_seed="b")
    assert first is again
    assert first == again and hash(first) == hash(again)
    assert first != other
    assert first.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schedules": []}, 'schedules "": at least one schedule is required'),
        (
            {"schedules": ["*/0 * * * *"]},
            'schedule "*/0 * * * *": minute: step must be at least 1',
        ),
        (
            {"schedules": ["@daily"], "exclude": ["@every 1h"]},
            'exclusion "@every 1h": exclusions must be cron expressions, not @every or @at',
        ),
        (
            {"schedules": ["@daily"], "exclude": ["0 0 * * * * *"]},
            'exclusion "0 0 * * * * *": expected 5 fields (minute hour day-of-month month'
            " day-of-week) or 6 (a leading second), got 7",
        ),
        (
            {"schedules": ["@daily"], "exclude": ["0 0 25 13 *"]},
            'exclusion "0 0 25 13 *": month: value 13 out of range 1-12',
        ),
        (
            {"schedules": ["@daily"], "jitter_seconds": -1},
            'jitterSeconds "-1": must not be negative',
        ),
    ],
)
def test_compile_timeline_rejects_bad_input_with_one_line(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        compile_timeline(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "zone", ["Mars/Base", "", "../etc/passwd", "/etc/localtime", "localtime", "Europe/Berlin "]
)
def test_compile_timeline_rejects_unknown_zones(zone: str) -> None:
    with pytest.raises(TimeZoneError) as caught:
        compile_timeline(schedules=["@daily"], time_zone=zone)
    assert caught.value.field == "timeZone"
    assert str(caught.value).startswith("timeZone ")


def test_compile_timeline_refuses_a_bare_string_for_a_list() -> None:
    with pytest.raises(TypeError):
        compile_timeline(schedules="* * * * *")


def test_ticks_is_lazy_over_an_endless_range() -> None:
    timeline = compile_timeline(schedules=["* * * * * *"])
    iterator = timeline.ticks(0, 10**11)
    assert [next(iterator).nominal for _ in range(3)] == [1, 2, 3]


def test_searches_end_at_the_supported_range() -> None:
    timeline = compile_timeline(schedules=["0 0 1 1 *"])
    assert timeline.next_tick(instant("9998-06-01T00:00:00Z")) is None
    first = timeline.next_tick(-(10**12))
    assert first is not None and local(first.nominal, "UTC") == "1800-01-01T00:00:00+00:00"
    assert timeline.prev_tick(first.nominal) is None
