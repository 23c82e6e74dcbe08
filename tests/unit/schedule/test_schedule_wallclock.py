"""Wall-clock searches against a second-by-second scan.

The timeline relies on three searches over wall times (next match, previous match,
next mismatch for skipping excluded stretches); each is compared here with the
obvious scan over a few hours, for random expressions.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_strategies import cron_texts
from schedule_support import wall_matches

from kron.schedule import CronExpression, parse_expression

SPAN = 3 * 3600
WALLS = st.integers(
    int(dt.datetime(1990, 1, 1, tzinfo=dt.UTC).timestamp()),
    int(dt.datetime(2040, 1, 1, tzinfo=dt.UTC).timestamp()),
)


def naive(wall: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(wall, dt.UTC).replace(tzinfo=None)


def parsed(text: str) -> CronExpression:
    expression = parse_expression(text)
    assert isinstance(expression, CronExpression)
    return expression


@settings(max_examples=80, deadline=None)
@given(text=cron_texts(), wall=WALLS)
def test_next_and_prev_match_find_the_nearest_matching_second(text: str, wall: int) -> None:
    expression = parsed(text)
    pattern = expression.wall_pattern()
    matching = [w for w in range(wall, wall + SPAN + 1) if wall_matches(expression, naive(w))]
    assert pattern.next_match(wall, wall + SPAN) == (matching[0] if matching else None)
    top = wall + SPAN
    assert pattern.prev_match(top, wall) == (matching[-1] if matching else None)
    for w in (wall, top):
        assert pattern.matches(w) == wall_matches(expression, naive(w))


DENSE = [
    "* * * * *",
    "* * * * * *",
    "*/10 * * * * *",
    "* 0-22 * * *",
    "0-9,50-59 * * * * *",
    "0-9,50-59 * * * *",
    "* 0-9,50-59 * * * *",
    "* 0-29 22,23 * * *",
]


@settings(max_examples=120, deadline=None)
@given(
    text=st.one_of(cron_texts(), st.sampled_from(DENSE)),
    wall=WALLS,
    any_second=st.booleans(),
    from_a_match=st.booleans(),
)
def test_next_mismatch_finds_the_first_second_that_does_not_match(
    text: str, wall: int, any_second: bool, from_a_match: bool
) -> None:
    expression = parsed(text)
    pattern = expression.wall_pattern(any_second=any_second)
    widened = any_second and not expression.has_seconds

    def matches(w: int) -> bool:
        moment = naive(w)
        if widened:
            moment = moment.replace(second=0)
        return wall_matches(expression, moment)

    if from_a_match:  # start inside a matching stretch, where skipping matters
        wall = pattern.next_match(wall, wall + 86_400) or wall
    limit = wall + SPAN
    expected = next((w for w in range(wall, limit) if not matches(w)), limit)
    assert pattern.next_mismatch(wall, limit) == expected


@pytest.mark.parametrize(
    ("text", "any_second", "start", "expected"),
    [
        # rest of the minute matches; the next minute matches up to its first bad second
        ("0-9,50-59 * * * * *", False, "2030-01-01T05:07:55", "2030-01-01T05:08:10"),
        # rest of the hour matches; the next hour matches up to its first bad minute
        ("0-9,50-59 * * * *", True, "2030-01-01T05:55:00", "2030-01-01T06:10:00"),
        ("* 0-9,50-59 * * * *", False, "2030-01-01T05:55:30", "2030-01-01T06:10:00"),
        # rest of the day matches; the next day does not
        ("* * * * MON", True, "2030-01-07T23:00:00", "2030-01-08T00:00:00"),
        # rest of the hour matches and the next hour is not allowed
        ("30-59 5 * * *", True, "2030-01-01T05:31:00", "2030-01-01T06:00:00"),
    ],
)
def test_next_mismatch_skips_whole_matching_stretches(
    text: str, any_second: bool, start: str, expected: str
) -> None:
    pattern = parsed(text).wall_pattern(any_second=any_second)
    wall = int(dt.datetime.fromisoformat(start + "+00:00").timestamp())
    limit = wall + 86_400 * 3
    assert pattern.next_mismatch(wall, limit) == int(
        dt.datetime.fromisoformat(expected + "+00:00").timestamp()
    )


def test_patterns_with_equal_fields_share_their_tables() -> None:
    """A fleet of tasks each on its own second, minute and hour holds one set of
    field tables per distinct field, not twenty tables per task (issue 12: 7 KiB a
    task at 100,000 tasks). Sharing must not mix fields up: each pattern still
    matches only its own times."""
    first = parsed("5 10 3 * * *").wall_pattern()
    second = parsed("5 20 4 * * *").wall_pattern()
    shared = ("_sec_ok", "_sec_next", "_sec_prev", "_dom_next", "_month_prev", "_dow_ahead")
    for name in shared:
        assert getattr(first, name) is getattr(second, name), name
    for name in ("_min_ok", "_min_next", "_hour_ok", "_hour_prev"):
        assert getattr(first, name) is not getattr(second, name), name
    at = int(dt.datetime(2030, 1, 1, 3, 10, 5, tzinfo=dt.UTC).timestamp())
    assert first.matches(at) and not second.matches(at)
    assert second.matches(at + 3600 + 600) and not first.matches(at + 3600 + 600)
