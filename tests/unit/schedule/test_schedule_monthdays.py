"""The month-dependent day forms: L, L-n, LW, L-nW, nW, d#n, dL.

Table tests pin each form's days (read off a calendar) in five zones, and its DST
behaviour on days where the zone changes its clocks; properties compare the engine
with the date-by-date reference of ``schedule_support`` (which decides the forms
from their definitions, not from the engine's month-shape masks) and, in UTC, with
croniter where croniter means the same thing.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schedule_strategies import day_of_month_items, day_of_week_items
from schedule_support import day_items_for, instant, local, reference_fires_by_day

from kron.schedule import CronExpression, ScheduleError, compile_timeline, parse_expression
from kron.schedule.zones import zone_table

# UTC, both hemispheres, a 30-minute shift (Lord Howe), a southern zone (Sydney).
ZONES = ("UTC", "America/Chicago", "Europe/Berlin", "Australia/Lord_Howe", "Australia/Sydney")

# (expression, after (local wall time), the next local wall times); 2026 calendar.
WALL_CASES: dict[str, tuple[str, str, list[str]]] = {
    "last_day": ("30 9 L * *", "2026-01-01T00:00", ["01-31", "02-28", "03-31", "04-30"]),
    "day_before_last": ("30 9 L-1 * *", "2026-01-01T00:00", ["01-30", "02-27", "03-30", "04-29"]),
    "offset_reaching_the_first": (
        "30 9 L-27 * *",
        "2026-01-01T00:00",
        ["01-04", "02-01", "03-04", "04-03"],
    ),
    "offset_longer_than_february_skips_it": (
        "30 9 L-30 * *",
        "2026-01-01T00:00",
        ["01-01", "03-01", "05-01", "07-01"],
    ),
    "last_weekday": ("30 9 LW * *", "2026-01-01T00:00", ["01-30", "02-27", "03-31", "04-30"]),
    "last_weekday_when_the_month_ends_on_sunday": (
        "30 9 LW * *",
        "2026-05-01T00:00",
        ["05-29", "06-30", "07-31", "08-31"],
    ),
    "weekday_nearest_two_days_before_the_last": (
        "30 9 L-2W * *",
        "2026-01-01T00:00",
        ["01-29", "02-26", "03-30", "04-28"],
    ),
    "nearest_weekday_moves_sunday_to_monday": (
        "30 9 15W * *",
        "2026-01-01T00:00",
        ["01-15", "02-16", "03-16", "04-15"],
    ),
    "nearest_weekday_moves_saturday_to_friday": (
        "30 9 15W * *",
        "2026-07-01T00:00",
        ["07-15", "08-14", "09-15", "10-15"],
    ),
    "nearest_weekday_never_leaves_the_month": (
        "30 9 1W * *",
        "2026-07-15T00:00",
        ["08-03", "09-01", "10-01", "11-02"],
    ),
    "nearest_weekday_to_a_missing_day_does_not_fire": (
        "30 9 31W * *",
        "2026-01-01T00:00",
        ["01-30", "03-31", "05-29", "07-31"],
    ),
    "list_of_plain_days_and_last": (
        "30 9 1,15,L * *",
        "2026-01-01T00:00",
        ["01-01", "01-15", "01-31", "02-01"],
    ),
    "second_tuesday": ("30 9 ? * TUE#2", "2026-01-01T00:00", ["01-13", "02-10", "03-10", "04-14"]),
    "fifth_friday_skips_months_without_one": (
        "30 9 * * 5#5",
        "2026-01-01T00:00",
        ["01-30", "05-29", "07-31", "10-30"],
    ),
    "last_friday_by_name": (
        "30 9 * * FRIL",
        "2026-01-01T00:00",
        ["01-30", "02-27", "03-27", "04-24"],
    ),
    "last_sunday_as_seven": (
        "30 9 * * 7L",
        "2026-01-01T00:00",
        ["01-25", "02-22", "03-29", "04-26"],
    ),
    "first_monday_and_third_wednesday": (
        "30 9 * * 1#1,wed#3",
        "2026-01-01T00:00",
        ["01-05", "01-21", "02-02", "02-18"],
    ),
    "vixie_or_last_day_or_last_friday": (
        "30 9 L * 5L",
        "2026-01-01T00:00",
        ["01-30", "01-31", "02-27", "02-28"],
    ),
}

YEAR_CASES: dict[str, tuple[str, str, list[str]]] = {
    "last_day_of_february_in_leap_years": (
        "30 9 L FEB *",
        "2026-01-01T00:00",
        ["2026-02-28", "2027-02-28", "2028-02-29", "2029-02-28"],
    ),
    "fifth_monday_of_february_only_in_some_leap_years": (
        "30 9 ? 2 MON#5",
        "2026-01-01T00:00",
        ["2044-02-29", "2072-02-29"],
    ),
}


def walls_after(expression: str, zone: str, after: str, count: int) -> list[str]:
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    start = dt.datetime.fromisoformat(after).replace(tzinfo=ZoneInfo(zone))
    cursor, walls = int(start.timestamp()), []
    for _ in range(count):
        tick = timeline.next_tick(cursor)
        assert tick is not None
        walls.append(dt.datetime.fromtimestamp(tick.nominal, ZoneInfo(zone)).replace(tzinfo=None))
        cursor = tick.nominal
    return [wall.isoformat() for wall in walls]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("expression", "after", "days"), WALL_CASES.values(), ids=WALL_CASES)
def test_each_form_fires_on_its_days_in_every_zone(
    zone: str, expression: str, after: str, days: list[str]
) -> None:
    expected = [f"{after[:4]}-{day}T09:30:00" for day in days]
    assert walls_after(expression, zone, after, len(days)) == expected


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("expression", "after", "dates"), YEAR_CASES.values(), ids=YEAR_CASES)
def test_forms_that_depend_on_the_year(
    zone: str, expression: str, after: str, dates: list[str]
) -> None:
    expected = [f"{date}T09:30:00" for date in dates]
    assert walls_after(expression, zone, after, len(dates)) == expected


# (zone, expression, after, fire times with offsets): clocks change on the form's day.
DST_CASES: dict[str, tuple[str, str, str, list[str]]] = {
    # Europe/Berlin: 2024-03-31 (last day, last Sunday) 02:00 -> 03:00
    "berlin_last_day_in_the_gap_fires_at_its_end": (
        "Europe/Berlin",
        "30 2 L * *",
        "2024-03-30T12:00:00+01:00",
        ["2024-03-31T03:00:00+02:00", "2024-04-30T02:30:00+02:00"],
    ),
    "berlin_last_sunday_in_the_gap_fires_at_its_end": (
        "Europe/Berlin",
        "30 2 * * SUNL",
        "2024-03-30T12:00:00+01:00",
        ["2024-03-31T03:00:00+02:00", "2024-04-28T02:30:00+02:00"],
    ),
    "berlin_every_hour_on_the_last_day_skips_the_gap": (
        "Europe/Berlin",
        "30 * L 3 *",
        "2024-03-31T01:00:00+01:00",
        ["2024-03-31T01:30:00+01:00", "2024-03-31T03:30:00+02:00"],
    ),
    # Europe/Berlin: 2021-10-31 (last day, a Sunday) 03:00 -> 02:00
    "berlin_last_day_in_the_repeated_hour_fires_once": (
        "Europe/Berlin",
        "30 2 L * *",
        "2021-10-30T12:00:00+02:00",
        ["2021-10-31T02:30:00+02:00", "2021-11-30T02:30:00+01:00"],
    ),
    "berlin_every_hour_on_the_last_day_fires_the_repeated_hour_twice": (
        "Europe/Berlin",
        "30 * L 10 *",
        "2021-10-31T01:00:00+02:00",
        [
            "2021-10-31T01:30:00+02:00",
            "2021-10-31T02:30:00+02:00",
            "2021-10-31T02:30:00+01:00",
            "2021-10-31T03:30:00+01:00",
        ],
    ),
    # America/Chicago: 2025-03-09 (second Sunday) 02:00 -> 03:00; 2025-11-02 (first) 02:00 -> 01:00
    "chicago_second_sunday_in_the_gap_fires_at_its_end": (
        "America/Chicago",
        "30 2 * * SUN#2",
        "2025-03-08T12:00:00-06:00",
        ["2025-03-09T03:00:00-05:00", "2025-04-13T02:30:00-05:00"],
    ),
    "chicago_first_sunday_in_the_repeated_hour_fires_once": (
        "America/Chicago",
        "30 1 * * 0#1",
        "2025-11-01T12:00:00-05:00",
        ["2025-11-02T01:30:00-05:00", "2025-12-07T01:30:00-06:00"],
    ),
    # Australia/Lord_Howe (30 minutes): 2024-10-06 02:00 -> 02:30; 2024-04-07 02:00 -> 01:30
    "lord_howe_first_sunday_in_the_half_hour_gap_fires_at_its_end": (
        "Australia/Lord_Howe",
        "15 2 * * 0#1",
        "2024-10-05T12:00:00+10:30",
        ["2024-10-06T02:30:00+11:00", "2024-11-03T02:15:00+11:00"],
    ),
    "lord_howe_first_sunday_in_the_repeated_half_hour_fires_once": (
        "Australia/Lord_Howe",
        "45 1 * * SUN#1",
        "2024-04-06T12:00:00+11:00",
        ["2024-04-07T01:45:00+11:00", "2024-05-05T01:45:00+10:30"],
    ),
    # Australia/Sydney (southern): 2024-10-06 02:00 -> 03:00; 2024-04-07 03:00 -> 02:00
    "sydney_first_sunday_in_the_gap_fires_at_its_end": (
        "Australia/Sydney",
        "30 2 * * 0#1",
        "2024-10-05T12:00:00+10:00",
        ["2024-10-06T03:00:00+11:00", "2024-11-03T02:30:00+11:00"],
    ),
    "sydney_first_sunday_in_the_repeated_hour_fires_once": (
        "Australia/Sydney",
        "30 2 ? * SUN#1",
        "2024-04-06T12:00:00+11:00",
        ["2024-04-07T02:30:00+11:00", "2024-05-05T02:30:00+10:00"],
    ),
    # Africa/Cairo: 2023-04-28 (last Friday, last weekday) 00:00 -> 01:00;
    # 2023-10-26 (last Thursday) 24:00 -> 23:00
    "cairo_last_friday_in_the_midnight_gap_fires_at_one": (
        "Africa/Cairo",
        "30 0 * * FRIL",
        "2023-04-27T12:00:00+02:00",
        ["2023-04-28T01:00:00+03:00", "2023-05-26T00:30:00+03:00"],
    ),
    "cairo_last_weekday_in_the_midnight_gap_fires_at_one": (
        "Africa/Cairo",
        "30 0 LW * *",
        "2023-04-27T12:00:00+02:00",
        ["2023-04-28T01:00:00+03:00", "2023-05-31T00:30:00+03:00"],
    ),
    "cairo_last_thursday_in_the_repeated_hour_fires_once": (
        "Africa/Cairo",
        "30 23 * * THUL",
        "2023-10-26T12:00:00+03:00",
        ["2023-10-26T23:30:00+03:00", "2023-11-30T23:30:00+02:00"],
    ),
    # Asia/Tehran: 2022-03-22 (a Tuesday) 00:00 -> 01:00, its last DST change
    "tehran_nearest_weekday_in_the_gap_fires_at_its_end": (
        "Asia/Tehran",
        "30 0 22W 3 *",
        "2022-03-21T12:00:00+03:30",
        ["2022-03-22T01:00:00+04:30", "2023-03-22T00:30:00+03:30"],
    ),
}


@pytest.mark.parametrize(
    ("zone", "expression", "after", "expected"), DST_CASES.values(), ids=DST_CASES
)
def test_the_dst_rule_applies_to_the_month_dependent_forms(
    zone: str, expression: str, after: str, expected: list[str]
) -> None:
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    start, until = instant(after), instant(expected[-1])
    assert [local(t.nominal, zone) for t in timeline.ticks(start, until)] == expected
    walked, cursor = [], until + 1
    for _ in expected:
        tick = timeline.prev_tick(cursor)
        assert tick is not None
        walked.append(local(tick.nominal, zone))
        cursor = tick.nominal
    assert walked[::-1] == expected


def test_a_day_field_of_only_forms_restricts_like_any_other() -> None:
    # L with day-of-week * means the last day only (not OR every day).
    assert walls_after("0 0 L * *", "UTC", "2026-01-30T00:00", 2) == [
        "2026-01-31T00:00:00",
        "2026-02-28T00:00:00",
    ]
    with pytest.raises(ScheduleError, match="never fires"):
        parse_expression("0 0 L-29 2 *")
    # L-28 exists in February only in leap years: accepted.
    assert walls_after("0 0 L-28 2 *", "UTC", "2026-01-01T00:00", 1) == ["2028-02-01T00:00:00"]


# -- properties ------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROPERTY_ZONES = (*ZONES, "Africa/Cairo", "Asia/Tehran", "America/Santiago", "Pacific/Chatham")


@st.composite
def monthday_texts(draw: st.DrawFn) -> str:
    """Sparse times (the reference walks every allowed time of a day), L/W/# days."""
    seconds = draw(st.sampled_from(["", "0 ", "30 "]))
    minute = draw(st.sampled_from(["0", "30", "15,45", "*/20", "59"]))
    hour = draw(st.sampled_from(["0", "2", "1-3", "23", "*", "0,12", "*/6"]))
    dom = draw(st.one_of(st.sampled_from(["*", "?", "1-7", "15"]), day_of_month_items()))
    dow = draw(st.one_of(st.sampled_from(["*", "?", "1-5", "SAT,SUN"]), day_of_week_items()))
    month = draw(st.sampled_from(["*", "*", "2", "1-3", "FEB,MAR,OCT,NOV", "4,6,9,11"]))
    assume(any(c in (dom + dow).upper() for c in "LW#"))
    text = f"{seconds}{minute} {hour} {dom} {month} {dow}"
    try:
        parse_expression(text)
    except ScheduleError:
        assume(False)  # a day that never occurs in the chosen months
    return text


@st.composite
def long_windows(draw: st.DrawFn) -> tuple[str, int, int]:
    zone = draw(st.sampled_from(PROPERTY_ZONES))
    after = instant(f"{draw(st.integers(1975, 2036))}-01-01T00:00:00+00:00")
    after += draw(st.integers(0, 365 * 86_400))
    return zone, after, after + draw(st.integers(20, 400)) * 86_400


@st.composite
def a_form_on_a_change_day(draw: st.DrawFn) -> tuple[str, str, int, int]:
    """A form that selects the local day of an offset change, at a time it skips or repeats."""
    zone = draw(st.sampled_from([z for z in PROPERTY_ZONES if z != "UTC"]))
    changes: list[tuple[int, int, int]] = []
    while not changes:
        changes = zone_table(zone).transitions(draw(st.integers(1975, 2036)))
    at, before, after = draw(st.sampled_from(changes))
    low, high = sorted((at + before, at + after))  # the skipped or repeated wall times
    wall = dt.datetime.fromtimestamp(draw(st.integers(low, high - 1)), dt.UTC)
    days = draw(st.sampled_from(day_items_for(wall.date())))
    minute = draw(st.sampled_from([str(wall.minute), f"{wall.minute % 15}/15", "*"]))
    hour = draw(st.sampled_from([str(wall.hour), "*", f"{wall.hour}-{min(wall.hour + 1, 23)}"]))
    start = at - draw(st.integers(1, 3)) * 86_400
    return f"{minute} {hour} {days}", zone, start, start + 40 * 86_400


def assert_matches_the_reference(expression: str, zone: str, after: int, until: int) -> None:
    parsed = parse_expression(expression)
    assert isinstance(parsed, CronExpression)
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    expected = reference_fires_by_day(parsed, zone, after, until)
    assert [tick.nominal for tick in timeline.ticks(after, until)] == expected
    walked, cursor = [], until + 1
    for _ in range(len(expected) + 1):  # bounded: a bug must fail, not hang
        tick = timeline.prev_tick(cursor)
        if tick is None or tick.nominal <= after:
            break
        walked.append(tick.nominal)
        cursor = tick.nominal
    assert walked[::-1] == expected


@PROPERTY_SETTINGS
@given(expression=monthday_texts(), window=long_windows())
def test_forms_match_the_date_by_date_reference(
    expression: str, window: tuple[str, int, int]
) -> None:
    assert_matches_the_reference(expression, *window)


@PROPERTY_SETTINGS
@given(case=a_form_on_a_change_day())
def test_forms_on_a_dst_change_day_match_the_reference(case: tuple[str, str, int, int]) -> None:
    assert_matches_the_reference(*case)


@st.composite
def croniter_monthday_texts(draw: st.DrawFn) -> tuple[str, str]:
    """(kron, croniter) spellings where croniter means the same: one day field only,
    nW at most 28 (croniter moves a missing day to the month's end), no L-n or LW,
    day-of-week lists of # and L items only (croniter spells dL as Ld)."""
    time = draw(st.sampled_from(["0 0", "30 9", "*/30 23"]))
    if draw(st.booleans()):
        items = draw(
            st.lists(st.one_of(st.just("L"), st.integers(1, 28).map(str)), min_size=1, max_size=3)
        )
        if draw(st.booleans()):
            items = [f"{draw(st.integers(1, 28))}W"]
        dom = ",".join(items)
        return f"{time} {dom} * *", f"{time} {dom} * *"
    ours, theirs = [], []
    for _ in range(draw(st.integers(1, 2))):
        day = draw(st.integers(0, 6))
        if draw(st.booleans()):
            n = draw(st.integers(1, 5))
            ours.append(f"{day}#{n}")
            theirs.append(f"{day}#{n}")
        else:
            ours.append(f"{day}L")
            theirs.append(f"L{day}")
    return f"{time} * * {','.join(ours)}", f"{time} * * {','.join(theirs)}"


@settings(max_examples=80, deadline=None)
@given(texts=croniter_monthday_texts(), start=st.integers(0, 2_000_000_000))
def test_utc_iteration_agrees_with_croniter_where_it_means_the_same(
    texts: tuple[str, str], start: int
) -> None:
    ours_text, theirs_text = texts
    timeline = compile_timeline(schedules=[ours_text])
    ours, cursor = [], start
    for _ in range(12):
        tick = timeline.next_tick(cursor)
        assert tick is not None
        ours.append(tick.nominal)
        cursor = tick.nominal
    reference = croniter(theirs_text, start, ret_type=float)
    assert ours == [int(reference.get_next(float)) for _ in range(12)]
