"""The admission policy's judgement of how often an expression fires, against the truth.

``kron.api.policy.cadence`` is the Python statement of what the policy's CEL concludes
(tests/chart/test_policy_cel.py holds the CEL to it on a real API server). Here it is
held to the fire times themselves: the field values ``kron.schedule`` parses, laid out
over two days, give the exact least distance between two fires. With unrestricted day
fields in UTC the estimate must equal it; restricted days only remove fires, so the
estimate can only be smaller (stricter) than the truth, never larger.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kron.api.policy import cadence
from kron.api.policy.cadence import MAX_FIELD_ITEMS, field_values
from kron.schedule import compile_timeline, parse_expression
from kron.schedule.expression import CronExpression

DAY = 86_400


def true_least_gap(text: str) -> int:
    """Least seconds between two fires, from the parsed field values over two days
    (exact when the day fields are unrestricted: the pattern repeats every day)."""
    parsed = parse_expression(text)
    assert isinstance(parsed, CronExpression)
    times = sorted(
        d * DAY + h * 3600 + m * 60 + s
        for d, h, m, s in itertools.product((0, 1), parsed.hours, parsed.minutes, parsed.seconds)
    )
    return min(b - a for a, b in itertools.pairwise(times))


def _value(top: int) -> st.SearchStrategy[str]:
    """A value 0..top, sometimes with leading zeros."""
    return st.builds(
        lambda v, zeros: "0" * zeros + str(v), st.integers(0, top), st.sampled_from([0, 0, 1])
    )


def _item(top: int) -> st.SearchStrategy[str]:
    step = st.integers(1, 70).map(lambda n: f"/{n}")
    ranged = st.tuples(st.integers(0, top), st.integers(0, top)).map(
        lambda ab: f"{min(ab)}-{max(ab)}"
    )
    base = st.one_of(st.just("*"), _value(top), ranged)
    return st.tuples(base, st.one_of(st.just(""), step)).map("".join)


def field(top: int) -> st.SearchStrategy[str]:
    return st.lists(_item(top), min_size=1, max_size=4).map(",".join)


cron_with_seconds = st.builds(lambda s, m, h: f"{s} {m} {h} * * *", field(59), field(59), field(23))
cron_five_fields = st.builds(lambda m, h: f"{m} {h} * * *", field(59), field(23))


@settings(max_examples=400)
@given(st.one_of(cron_with_seconds, cron_five_fields))
@example("*/10 * * * * *")
@example("0,45 9 * * *")
@example("0,59 * * * *")
@example("0,59 9,10 * * *")
@example("0,30 59 23,0 * * *")
@example("0 0 0,23 * * *")
@example("58,59 * * * *")
@example("0 0 * * *")
def test_estimate_is_exact_when_every_day_fires(text: str) -> None:
    judged = cadence(text)
    assert judged.known
    assert judged.interval == true_least_gap(text)


@given(st.one_of(cron_with_seconds, cron_five_fields))
def test_field_values_are_those_kron_schedule_parses(text: str) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, CronExpression)
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    assert field_values(fields[0], 60) == sorted(parsed.seconds)
    assert field_values(fields[1], 60) == sorted(parsed.minutes)
    assert field_values(fields[2], 24) == sorted(parsed.hours)


@given(st.one_of(cron_with_seconds, cron_five_fields))
def test_on_the_hour_means_second_and_minute_zero(text: str) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, CronExpression)
    assert cadence(text).on_the_hour == (0 in parsed.seconds and 0 in parsed.minutes)


@pytest.mark.parametrize(
    "text",
    [
        "0 0,23 * * MON",  # truth: 23 h (Monday 0:00 to 23:00); estimate: 1 h across midnight
        "*/20 9 1 * *",
        "0 9-17 * * MON-FRI",
        "30 2 29 2 *",
    ],
)
def test_estimate_is_never_above_the_truth_when_days_are_restricted(text: str) -> None:
    timeline = compile_timeline(schedules=[text])
    start = 1_893_456_000  # 2030-01-01T00:00:00Z
    ticks = [
        t.nominal for t in itertools.islice(timeline.ticks(start, start + 10 * 366 * DAY), 400)
    ]
    least = min(b - a for a, b in itertools.pairwise(ticks))
    interval = cadence(text).interval
    assert interval is not None
    assert interval <= least


@pytest.mark.parametrize(
    ("text", "interval", "on_the_hour"),
    [
        ("@every 90s", 90, True),
        ("@every 1h30m", 5400, True),
        ("@EVERY 1.5h", 5400, True),
        ("@every 0005m", 300, True),
        ("@every 7m", 420, True),
        ("@every 61s", 61, False),
        ("@every 61m", 3660, False),
        ("@every 2h", 7200, True),
        ("@every 25h", 90_000, True),
        ("@every 1s", 1, True),
        ("@hourly", 3600, True),
        ("@daily", DAY, True),
        ("@Weekly", DAY, True),
        ("@yearly", DAY, True),
        ("@at 2030-01-01T09:00:00Z", None, True),
        ("@at 2030-01-01t09:30:00+05:30", None, False),
        ("@at 2030-01-01T09:00:00.000-02:00", None, True),
        (" \t*/15 9-17 * * MON-FRI \n", 900, True),
        ("30 */2 * * *", 7200, False),
        ("30 5 * * *", DAY, False),
        ("0 30 9 * * *", DAY, False),
    ],
)
def test_estimates_of_the_other_forms(text: str, interval: int | None, on_the_hour: bool) -> None:
    judged = cadence(text)
    assert judged.known
    assert (judged.interval, judged.on_the_hour) == (interval, on_the_hour)


@pytest.mark.parametrize(
    "text",
    [
        "@every 1s1s1s1s1s",  # five parts
        "@every 100000s",  # six digits
        ",".join(["1"] * (MAX_FIELD_ITEMS + 1)) + " * * * *",
        "*/100000 * * * *",  # a five-digit step
    ],
)
def test_forms_the_policy_does_not_read_are_unknown(text: str) -> None:
    parse_expression(text)  # kron accepts them
    judged = cadence(text)
    assert not judged.known
    assert judged.interval is None


def test_the_item_limit_is_inclusive() -> None:
    text = ",".join(["1"] * MAX_FIELD_ITEMS) + " * * * *"
    assert cadence(text) == cadence("1 * * * *")


@given(st.integers(1, 99_999))  # five digits: what the policy reads
@example(90)
@example(61)
@example(3660)
@example(90_000)
def test_every_is_on_the_hour_when_it_is_daily_or_always(seconds: int) -> None:
    """Ticks are the multiples of D since the epoch: on the hour at least once a day
    (a tick in the first day after the epoch is) or at every tick (D a multiple of 1 h)."""
    first_day = range(seconds, DAY + 1, seconds)
    expected = seconds % 3600 == 0 or any(t % 3600 == 0 for t in first_day)
    assert cadence(f"@every {seconds}s").on_the_hour == expected
