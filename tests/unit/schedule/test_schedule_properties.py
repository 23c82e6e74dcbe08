"""Properties of timelines over random expressions, zones and instants.

The strongest check compares the engine with a brute-force reference that walks
every wall-clock second and applies the DST rule through PEP 495 folds; another
compares plain UTC iteration with croniter as an independent cron implementation.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from croniter import croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schedule_strategies import cron_texts
from schedule_support import reference_fires

from kron.schedule import CronExpression, Timeline, compile_timeline, parse_expression
from kron.schedule.zones import zone_table

ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Tehran",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Kolkata",
)
HOUR = 3600

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


EXPRESSIONS = st.one_of(
    cron_texts(),
    st.sampled_from(["@hourly", "@daily", "@weekly", "@monthly"]),
    st.integers(1, 4 * HOUR).map(lambda s: f"@every {s}s"),
)


@st.composite
def windows(draw: st.DrawFn, hours: int = 3) -> tuple[str, int, int]:
    """A zone and an interval (after, until] that often contains an offset change."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(1975, 2037))
    changes = zone_table(zone).transitions(year)
    if changes and draw(st.booleans()):
        center = draw(st.sampled_from(changes))[0]
    else:
        center = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
        center += draw(st.integers(0, 365 * 86_400))
    after = center - draw(st.integers(0, hours * HOUR))
    return zone, after, after + hours * HOUR


@st.composite
def around_a_change(draw: st.DrawFn) -> tuple[str, str, int, int]:
    """An expression whose wall times fall in the gap or overlap of an offset change."""
    zone = draw(st.sampled_from([z for z in ZONES if z not in ("UTC", "Asia/Kolkata")]))
    changes: list[tuple[int, int, int]] = []
    while not changes:
        changes = zone_table(zone).transitions(draw(st.integers(1975, 2037)))
    at, before, after = draw(st.sampled_from(changes))
    low, high = sorted((at + before, at + after))  # the skipped or repeated wall times
    wall = dt.datetime.fromtimestamp(draw(st.integers(low, high - 1)), dt.UTC)
    minute = draw(st.sampled_from([str(wall.minute), f"{wall.minute % 15}/15", "*"]))
    hour = draw(st.sampled_from([str(wall.hour), f"{wall.hour}-{min(wall.hour + 2, 23)}", "*"]))
    seconds = draw(st.sampled_from(["", f"{wall.second} ", "*/20 "]))
    expression = f"{seconds}{minute} {hour} * * *"
    start = at - draw(st.integers(0, 2 * HOUR))
    return expression, zone, start, start + 3 * HOUR


def nominal_list(timeline: Timeline, after: int, until: int) -> list[int]:
    return [tick.nominal for tick in timeline.ticks(after, until)]


@PROPERTY_SETTINGS
@given(
    case=st.one_of(
        st.tuples(cron_texts(), windows()).map(lambda c: (c[0], *c[1])),
        around_a_change(),
    )
)
def test_cron_ticks_match_the_brute_force_reference(case: tuple[str, str, int, int]) -> None:
    expression, zone, after, until = case
    parsed = parse_expression(expression)
    assert isinstance(parsed, CronExpression)
    timeline = compile_timeline(schedules=[expression], time_zone=zone)
    expected = reference_fires(parsed, zone, after, until)
    assert nominal_list(timeline, after, until) == expected
    backwards, cursor = [], until + 1
    for _ in range(len(expected) + 1):  # bounded: a bug must fail, not hang
        tick = timeline.prev_tick(cursor)
        if tick is None or tick.nominal <= after:
            break
        assert tick.nominal < cursor
        backwards.append(tick.nominal)
        cursor = tick.nominal
    assert backwards[::-1] == expected


@PROPERTY_SETTINGS
@given(
    expressions=st.lists(EXPRESSIONS, min_size=1, max_size=3),
    window=windows(hours=6),
)
def test_union_ticks_are_strictly_increasing_and_agree_with_next_prev_and_matches(
    expressions: Sequence[str], window: tuple[str, int, int]
) -> None:
    zone, after, until = window
    timeline = compile_timeline(
        schedules=expressions, time_zone=zone, jitter_seconds=90, jitter_seed="prop"
    )
    ticks = list(itertools.islice(timeline.ticks(after, until), 50_000))
    nominals = [tick.nominal for tick in ticks]
    assert len(ticks) < 50_000
    assert all(a < b for a, b in itertools.pairwise(nominals))
    assert all(after < n <= until for n in nominals)

    # next_tick walks the same ticks, jitter included
    cursor, walked = after, []
    for _ in range(len(ticks) + 1):  # bounded: a bug must fail, not hang
        tick = timeline.next_tick(cursor)
        if tick is None or tick.nominal > until:
            break
        assert tick.nominal > cursor
        walked.append(tick)
        cursor = tick.nominal
    assert walked == ticks

    # prev_tick inverts next_tick
    for previous, current in zip([None, *ticks], ticks, strict=False):
        assert timeline.prev_tick(current.nominal + 1) == current
        back = timeline.prev_tick(current.nominal)
        if previous is not None:
            assert back == previous
        else:
            assert back is None or back.nominal <= after

    # fire_at stays in [nominal, next nominal)
    following = timeline.next_tick(until)
    for current, later in zip(ticks, [*ticks[1:], following], strict=False):
        assert current.nominal <= current.fire_at < current.nominal + 90
        if later is not None:
            assert current.fire_at < later.nominal


@PROPERTY_SETTINGS
@given(
    expressions=st.lists(EXPRESSIONS, min_size=1, max_size=2),
    window=windows(hours=1),
    probes=st.lists(st.integers(0, HOUR), min_size=1, max_size=40),
)
def test_matches_agrees_with_iteration(
    expressions: Sequence[str], window: tuple[str, int, int], probes: list[int]
) -> None:
    zone, after, until = window
    timeline = compile_timeline(schedules=expressions, time_zone=zone)
    nominals = set(nominal_list(timeline, after, until))
    for probe in probes:
        moment = after + probe
        if after < moment <= until:
            assert timeline.matches(moment) == (moment in nominals)
    for moment in nominals:
        assert timeline.matches(moment)


@PROPERTY_SETTINGS
@given(
    expressions=st.lists(EXPRESSIONS, min_size=2, max_size=4),
    window=windows(hours=6),
)
def test_union_is_the_sorted_set_of_its_members(
    expressions: Sequence[str], window: tuple[str, int, int]
) -> None:
    zone, after, until = window
    union = nominal_list(compile_timeline(schedules=expressions, time_zone=zone), after, until)
    members: set[int] = set()
    for expression in expressions:
        single = compile_timeline(schedules=[expression], time_zone=zone)
        members.update(nominal_list(single, after, until))
    assert union == sorted(members)


@PROPERTY_SETTINGS
@given(
    expression=cron_texts(),
    window=windows(hours=48),
    exclusion=cron_texts(seconds=False),
)
def test_upcoming_is_next_ticks_without_the_excluded_ones(
    expression: str, window: tuple[str, int, int], exclusion: str
) -> None:
    zone, after, until = window
    timeline = compile_timeline(schedules=[expression], time_zone=zone, exclude=[exclusion])
    ticks = list(timeline.ticks(after, until))
    expected = [tick for tick in ticks if not tick.excluded][:5]
    upcoming = timeline.upcoming(after, 5)
    if len(expected) == 5:
        assert upcoming == expected
    else:
        assert upcoming[: len(expected)] == expected
        assert all(tick.nominal > until and not tick.excluded for tick in upcoming[len(expected) :])


def croniter_field(low: int, high: int) -> st.SearchStrategy[str]:
    """Field text on which croniter and kron agree (no equal ranges, no full day sets)."""
    value = st.integers(low, high)
    pair = st.tuples(value, value).filter(lambda p: p[0] != p[1]).map(sorted)
    item = st.one_of(
        value.map(str),
        pair.map(lambda p: f"{p[0]}-{p[1]}"),
        st.tuples(pair, st.integers(1, 9)).map(lambda ps: f"{ps[0][0]}-{ps[0][1]}/{ps[1]}"),
    )
    return st.one_of(st.just("*"), st.lists(item, min_size=1, max_size=3).map(",".join))


@st.composite
def croniter_texts(draw: st.DrawFn) -> str:
    seconds = draw(st.booleans())
    parts = [draw(st.sampled_from(["0", "*/20", "5,50"]))] if seconds else []
    parts += [
        draw(st.one_of(croniter_field(0, 59), st.integers(1, 30).map(lambda k: f"*/{k}"))),
        draw(croniter_field(0, 23)),
        draw(croniter_field(1, 28)),
        draw(st.one_of(st.just("*"), croniter_field(1, 12))),
        draw(st.one_of(st.just("*"), st.sampled_from(["MON-FRI", "SAT,SUN", "7", "1,3"]))),
    ]
    text = " ".join(parts)
    weekdays = parse_expression(text)
    assert isinstance(weekdays, CronExpression)
    assume(len(weekdays.weekdays) < 7 or parts[-1] == "*")
    return text


@settings(max_examples=80, deadline=None)
@given(expression=croniter_texts(), start=st.integers(0, 2_000_000_000))
def test_utc_iteration_agrees_with_croniter(expression: str, start: int) -> None:
    timeline = compile_timeline(schedules=[expression])
    ours, cursor = [], start
    for _ in range(15):
        tick = timeline.next_tick(cursor)
        assert tick is not None
        ours.append(tick.nominal)
        cursor = tick.nominal
    reference = croniter(
        expression, start, second_at_beginning=len(expression.split()) == 6, ret_type=float
    )
    theirs = [int(reference.get_next(float)) for _ in range(15)]
    assert ours == theirs
