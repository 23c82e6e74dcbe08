"""The DST rule of api.md, pinned zone by zone.

A wall time that does not exist fires once, at the first instant after the gap; a
repeated wall time fires once (the first occurrence). If the hour field allows every
hour, exactly the wall times that occur fire: both occurrences of a repeated one, and
none skipped by a gap. @every and @at ignore DST.
"""

from __future__ import annotations

import pytest
from schedule_support import instant, local, reference_fires

from kron.schedule import CronExpression, compile_timeline, parse_expression

# (zone, expression, after, expected fire times in the zone with their offsets)
CASES: dict[str, tuple[str, str, str, list[str]]] = {
    # -- America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT -> 01:00 EST
    "new_york_spring_forward_moves_nightly_job_to_end_of_gap": (
        "America/New_York",
        "30 2 * * *",
        "2024-03-09T00:00:00-05:00",
        ["2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"],
    ),
    "new_york_spring_forward_collapses_every_tick_in_the_gap_into_one": (
        "America/New_York",
        "0,15,30,45 2 * * *",
        "2024-03-10T00:00:00-05:00",
        ["2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"],
    ),
    "new_york_fall_back_fires_nightly_job_once": (
        "America/New_York",
        "30 1 * * *",
        "2024-11-02T12:00:00-04:00",
        ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00", "2024-11-05T01:30:00-05:00"],
    ),
    "new_york_fall_back_fires_hourly_job_in_both_repeated_hours": (
        "America/New_York",
        "0 * * * *",
        "2024-11-03T00:30:00-04:00",
        [
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T02:00:00-05:00",
            "2024-11-03T03:00:00-05:00",
        ],
    ),
    "new_york_fall_back_repeats_every_half_hour_tick": (
        "America/New_York",
        "*/30 * * * *",
        "2024-11-03T00:45:00-04:00",
        [
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T01:30:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T01:30:00-05:00",
            "2024-11-03T02:00:00-05:00",
        ],
    ),
    "new_york_fall_back_hour_range_not_covering_the_day_fires_once": (
        "America/New_York",
        "0 1-3 * * *",
        "2024-11-03T00:00:00-04:00",
        ["2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00", "2024-11-03T03:00:00-05:00"],
    ),
    "new_york_fall_back_hour_range_covering_every_hour_fires_twice": (
        "America/New_York",
        "0 0-23 * * *",
        "2024-11-03T00:30:00-04:00",
        ["2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"],
    ),
    "new_york_every_minute_through_spring_forward": (
        "America/New_York",
        "* * * * *",
        "2024-03-10T01:58:00-05:00",
        ["2024-03-10T01:59:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:01:00-04:00"],
    ),
    "new_york_every_minute_through_fall_back": (
        "America/New_York",
        "* * * * *",
        "2024-11-03T01:58:00-04:00",
        [
            "2024-11-03T01:59:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T01:01:00-05:00",
            "2024-11-03T01:02:00-05:00",
        ],
    ),
    "new_york_search_from_inside_the_repeated_hour_skips_its_last_second": (
        "America/New_York",
        "59 59 1 * * *",
        "2024-11-03T01:59:58-05:00",
        ["2024-11-04T01:59:59-05:00"],
    ),
    "new_york_spring_forward_skips_every_quarter_hour_tick_in_the_gap": (
        "America/New_York",
        "*/15 * * * *",
        "2024-03-10T01:40:00-05:00",
        ["2024-03-10T01:45:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00"],
    ),
    "new_york_spring_forward_skips_a_six_field_hourly_tick_in_the_gap": (
        "America/New_York",
        "30 30 * * * *",
        "2024-03-10T01:00:00-05:00",
        ["2024-03-10T01:30:30-05:00", "2024-03-10T03:30:30-04:00"],
    ),
    "new_york_every_second_through_spring_forward": (
        "America/New_York",
        "* * * * * *",
        "2024-03-10T01:59:58-05:00",
        ["2024-03-10T01:59:59-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:00:01-04:00"],
    ),
    # -- America/Chicago: 2025-03-09 02:00 CST -> 03:00 CDT
    "chicago_spring_forward_skips_the_hourly_tick_in_the_gap": (
        "America/Chicago",
        "30 * * * *",
        "2025-03-09T00:45:00-06:00",
        ["2025-03-09T01:30:00-06:00", "2025-03-09T03:30:00-05:00", "2025-03-09T04:30:00-05:00"],
    ),
    "chicago_spring_forward_moves_a_tick_of_some_hours_to_end_of_gap": (
        "America/Chicago",
        "30 0-22 * * *",
        "2025-03-09T00:45:00-06:00",
        ["2025-03-09T01:30:00-06:00", "2025-03-09T03:00:00-05:00", "2025-03-09T03:30:00-05:00"],
    ),
    # -- Europe/Berlin: 2024-03-31 02:00 -> 03:00; 2024-10-27 03:00 -> 02:00
    "berlin_spring_forward_moves_nightly_job_to_end_of_gap": (
        "Europe/Berlin",
        "30 2 * * *",
        "2024-03-30T12:00:00+01:00",
        ["2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"],
    ),
    "berlin_fall_back_fires_nightly_job_once": (
        "Europe/Berlin",
        "30 2 * * *",
        "2024-10-26T12:00:00+02:00",
        ["2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"],
    ),
    "berlin_fall_back_fires_hourly_job_twice_in_repeated_hour": (
        "Europe/Berlin",
        "@hourly",
        "2024-10-27T01:30:00+02:00",
        ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00"],
    ),
    # -- Europe/London: 2024-03-31 01:00 GMT -> 02:00 BST
    "london_spring_forward_moves_nightly_job_to_end_of_gap": (
        "Europe/London",
        "30 1 * * *",
        "2024-03-30T12:00:00+00:00",
        ["2024-03-31T02:00:00+01:00", "2024-04-01T01:30:00+01:00"],
    ),
    # -- Australia/Sydney (southern hemisphere): 2024-04-07 03:00 -> 02:00;
    #    2024-10-06 02:00 -> 03:00
    "sydney_fall_back_in_april_fires_nightly_job_once": (
        "Australia/Sydney",
        "30 2 * * *",
        "2024-04-06T12:00:00+11:00",
        ["2024-04-07T02:30:00+11:00", "2024-04-08T02:30:00+10:00"],
    ),
    "sydney_fall_back_repeats_half_hourly_ticks": (
        "Australia/Sydney",
        "*/30 * * * *",
        "2024-04-07T01:45:00+11:00",
        [
            "2024-04-07T02:00:00+11:00",
            "2024-04-07T02:30:00+11:00",
            "2024-04-07T02:00:00+10:00",
            "2024-04-07T02:30:00+10:00",
            "2024-04-07T03:00:00+10:00",
        ],
    ),
    "sydney_spring_forward_in_october_moves_nightly_job_to_end_of_gap": (
        "Australia/Sydney",
        "30 2 * * *",
        "2024-10-05T12:00:00+10:00",
        ["2024-10-06T03:00:00+11:00", "2024-10-07T02:30:00+11:00"],
    ),
    # -- Australia/Lord_Howe (30-minute shift): 2024-04-07 02:00 -> 01:30;
    #    2024-10-06 02:00 -> 02:30
    "lord_howe_spring_forward_by_half_an_hour_moves_job_to_end_of_gap": (
        "Australia/Lord_Howe",
        "15 2 * * *",
        "2024-10-05T12:00:00+10:30",
        ["2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"],
    ),
    "lord_howe_gap_tick_and_tick_at_gap_end_fire_once": (
        "Australia/Lord_Howe",
        "0,30 2 * * *",
        "2024-10-05T12:00:00+10:30",
        ["2024-10-06T02:30:00+11:00", "2024-10-07T02:00:00+11:00", "2024-10-07T02:30:00+11:00"],
    ),
    "lord_howe_fall_back_by_half_an_hour_fires_nightly_job_once": (
        "Australia/Lord_Howe",
        "45 1 * * *",
        "2024-04-06T12:00:00+11:00",
        ["2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"],
    ),
    "lord_howe_fall_back_repeats_quarter_hourly_ticks_in_the_half_hour": (
        "Australia/Lord_Howe",
        "*/15 * * * *",
        "2024-04-07T01:00:00+11:00",
        [
            "2024-04-07T01:15:00+11:00",
            "2024-04-07T01:30:00+11:00",
            "2024-04-07T01:45:00+11:00",
            "2024-04-07T01:30:00+10:30",
            "2024-04-07T01:45:00+10:30",
            "2024-04-07T02:00:00+10:30",
        ],
    ),
    "lord_howe_hourly_job_has_no_tick_in_the_repeated_half_hour": (
        "Australia/Lord_Howe",
        "0 * * * *",
        "2024-04-07T00:30:00+11:00",
        ["2024-04-07T01:00:00+11:00", "2024-04-07T02:00:00+10:30", "2024-04-07T03:00:00+10:30"],
    ),
    "lord_howe_every_minute_through_spring_forward": (
        "Australia/Lord_Howe",
        "* * * * *",
        "2024-10-06T01:58:00+10:30",
        ["2024-10-06T01:59:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-06T02:31:00+11:00"],
    ),
    "lord_howe_spring_forward_skips_quarter_hourly_ticks_in_the_half_hour_gap": (
        "Australia/Lord_Howe",
        "*/15 * * * *",
        "2024-10-06T01:40:00+10:30",
        ["2024-10-06T01:45:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-06T02:45:00+11:00"],
    ),
    # -- America/Santiago: the clock changes at midnight
    "santiago_spring_forward_at_midnight_moves_midnight_job_to_one": (
        "America/Santiago",
        "0 0 * * *",
        "2024-09-07T12:00:00-04:00",
        ["2024-09-08T01:00:00-03:00", "2024-09-09T00:00:00-03:00"],
    ),
    "santiago_fall_back_at_midnight_fires_late_evening_job_once": (
        "America/Santiago",
        "30 23 * * *",
        "2024-04-06T12:00:00-03:00",
        ["2024-04-06T23:30:00-03:00", "2024-04-07T23:30:00-04:00"],
    ),
    # -- Asia/Tehran, 2021 (DST was abolished in 2022)
    "tehran_2021_spring_forward_moves_midnight_job_to_one": (
        "Asia/Tehran",
        "0 0 * * *",
        "2021-03-21T12:00:00+03:30",
        ["2021-03-22T01:00:00+04:30", "2021-03-23T00:00:00+04:30"],
    ),
    "tehran_2021_fall_back_fires_late_evening_job_once": (
        "Asia/Tehran",
        "30 23 * * *",
        "2021-09-21T12:00:00+04:30",
        ["2021-09-21T23:30:00+04:30", "2021-09-22T23:30:00+03:30"],
    ),
    "santiago_spring_forward_skips_the_hourly_midnight_tick": (
        "America/Santiago",
        "0 * * * *",
        "2024-09-07T22:30:00-04:00",
        ["2024-09-07T23:00:00-04:00", "2024-09-08T01:00:00-03:00", "2024-09-08T02:00:00-03:00"],
    ),
    # -- Pacific/Apia skipped 2011-12-30 entirely when it crossed the date line
    "apia_skipped_day_has_no_hourly_ticks": (
        "Pacific/Apia",
        "0 * * * *",
        "2011-12-29T22:30:00-10:00",
        ["2011-12-29T23:00:00-10:00", "2011-12-31T00:00:00+14:00", "2011-12-31T01:00:00+14:00"],
    ),
    "apia_skipped_day_collapses_into_the_first_instant_after_it": (
        "Pacific/Apia",
        "0 12 * * *",
        "2011-12-29T00:00:00-10:00",
        ["2011-12-29T12:00:00-10:00", "2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"],
    ),
    # -- @every is absolute: elapsed time, unaffected by the offset change
    "every_hour_counts_real_hours_through_spring_forward": (
        "America/New_York",
        "@every 1h",
        "2024-03-10T00:30:00-05:00",
        ["2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"],
    ),
    "every_hour_counts_real_hours_through_fall_back": (
        "America/New_York",
        "@every 1h",
        "2024-11-03T00:30:00-04:00",
        ["2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"],
    ),
    "every_forty_minutes_counts_from_the_epoch_not_from_midnight": (
        "Australia/Lord_Howe",
        "@every 40m",
        "2024-10-06T01:00:00+10:30",
        ["2024-10-06T01:10:00+10:30", "2024-10-06T01:50:00+10:30", "2024-10-06T03:00:00+11:00"],
    ),
    "at_fires_at_its_instant_whatever_the_zone": (
        "Australia/Lord_Howe",
        "@at 2024-10-05T15:45:00Z",
        "2024-10-01T00:00:00Z",
        ["2024-10-06T02:45:00+11:00"],
    ),
}


@pytest.mark.parametrize(("zone", "expression", "after", "expected"), CASES.values(), ids=CASES)
def test_fire_times_follow_the_dst_rule(
    zone: str, expression: str, after: str, expected: list[str]
) -> None:
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    fired: list[str] = []
    cursor = instant(after)
    for _ in expected:
        tick = timeline.next_tick(cursor)
        assert tick is not None
        fired.append(local(tick.nominal, zone))
        cursor = tick.nominal
    assert fired == expected


@pytest.mark.parametrize(("zone", "expression", "after", "expected"), CASES.values(), ids=CASES)
def test_prev_tick_walks_the_same_fire_times_backwards(
    zone: str, expression: str, after: str, expected: list[str]
) -> None:
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    walked: list[str] = []
    cursor = instant(expected[-1]) + 1
    for _ in expected:
        tick = timeline.prev_tick(cursor)
        assert tick is not None
        walked.append(local(tick.nominal, zone))
        cursor = tick.nominal
    assert walked[::-1] == expected
    before_first = timeline.prev_tick(instant(expected[0]))
    assert before_first is None or before_first.nominal <= instant(after)


@pytest.mark.parametrize(("zone", "expression", "after", "expected"), CASES.values(), ids=CASES)
def test_ticks_and_matches_agree_with_the_table(
    zone: str, expression: str, after: str, expected: list[str]
) -> None:
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    start, until = instant(after), instant(expected[-1])
    assert [local(t.nominal, zone) for t in timeline.ticks(start, until)] == expected
    nominals = {instant(text) for text in expected}
    for moment in nominals:
        assert timeline.matches(moment)
        if moment - 1 > start:
            assert timeline.matches(moment - 1) == (moment - 1 in nominals)


def test_spring_forward_collapses_several_schedules_into_one_fire() -> None:
    timeline = compile_timeline(
        schedules=["0 2 * * *", "30 2 * * *", "0 3 * * *"], time_zone="America/New_York"
    )
    ticks = timeline.ticks(
        instant("2024-03-10T00:00:00-05:00"), instant("2024-03-11T00:00:00-04:00")
    )
    assert [local(t.nominal, "America/New_York") for t in ticks] == ["2024-03-10T03:00:00-04:00"]


def test_fall_back_fires_nightly_job_once_in_every_zone_with_dst() -> None:
    # A full year of a 01:30 job: exactly one fire per local calendar day, never skipped.
    for zone in ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe"):
        timeline = compile_timeline(schedules=["30 1 * * *"], time_zone=zone)
        days = [
            local(t.nominal, zone)[:10]
            for t in timeline.ticks(
                instant("2024-01-01T12:00:00Z"), instant("2024-12-31T12:00:00Z")
            )
        ]
        assert len(days) == len(set(days)), zone
        assert len(days) in (365, 366), zone


def test_fall_back_just_before_a_utc_new_year_still_fires_nightly_job_once() -> None:
    # Africa/Niamey left local mean time (+00:08:28) for -01:00 at 1911-12-31T23:51:32Z,
    # 508 s before the UTC year ends, so 22:51:32-23:59:59 local happened twice and the
    # repeat runs into the next year's table. The 23:30 job must still fire once.
    zone, expression = "Africa/Niamey", "30 23 * * *"
    after, until = instant("1911-12-31T20:00:00Z"), instant("1912-01-01T04:00:00Z")
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    fired = [tick.nominal for tick in timeline.ticks(after, until)]
    parsed = parse_expression(expression)
    assert isinstance(parsed, CronExpression)
    assert fired == reference_fires(parsed, zone, after, until)
    assert len(fired) == 1
