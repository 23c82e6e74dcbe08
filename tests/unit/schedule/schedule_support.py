"""Helpers for the schedule tests: instant conversions and a brute-force reference.

The reference decides the DST rule from PEP 495 datetimes (``fold``) wall time by
wall time, independently of the engine's segment/high-water approach, so comparing
the two checks the engine's iteration rather than restating it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kron.schedule import CronExpression

UTC = dt.UTC


def instant(text: str) -> int:
    """Unix seconds of an RFC 3339 / ISO 8601 instant with an offset."""
    moment = dt.datetime.fromisoformat(text)
    assert moment.tzinfo is not None, "give an offset"
    return int(moment.timestamp())


def local(seconds: int, zone: str) -> str:
    """An instant as ISO 8601 in ``zone`` with its offset, e.g. 2024-03-10T03:00:00-04:00."""
    return dt.datetime.fromtimestamp(seconds, ZoneInfo(zone)).isoformat()


def wall_matches(expression: CronExpression, wall: dt.datetime) -> bool:
    """Does a naive wall-clock datetime match the expression's fields (Vixie days)?"""
    if (
        wall.second not in expression.seconds
        or wall.minute not in expression.minutes
        or wall.hour not in expression.hours
        or wall.month not in expression.months
    ):
        return False
    dom = wall.day in expression.days
    dow = wall.isoweekday() % 7 in expression.weekdays
    return (dom or dow) if expression.days_or else (dom and dow)


def _to_utc(wall: dt.datetime, zone: ZoneInfo, fold: int) -> int:
    return int(wall.replace(tzinfo=zone, fold=fold).timestamp())


def _round_trips(seconds: int, wall: dt.datetime, zone: ZoneInfo) -> bool:
    return dt.datetime.fromtimestamp(seconds, zone).replace(tzinfo=None) == wall


def _first_instant_after_gap(wall: dt.datetime, zone: ZoneInfo) -> int:
    """For a non-existent wall time: the transition instant that skipped it."""
    low = _to_utc(wall, zone, 1)  # read with the offset after: before the transition
    high = _to_utc(wall, zone, 0)  # read with the offset before: after the transition
    low, high = min(low, high), max(low, high)
    # Smallest instant whose wall clock is past ``wall``.
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return high


def reference_fires(
    expression: CronExpression, zone_name: str, after: int, until: int
) -> list[int]:
    """Fire instants in ``(after, until]`` by brute force over every wall second."""
    zone = ZoneInfo(zone_name)
    offsets = [
        dt.datetime.fromtimestamp(t, zone).utcoffset() or dt.timedelta(0) for t in (after, until)
    ]
    margin = dt.timedelta(hours=3)
    first_wall = dt.datetime.fromtimestamp(after, UTC).replace(tzinfo=None) + min(offsets) - margin
    last_wall = dt.datetime.fromtimestamp(until, UTC).replace(tzinfo=None) + max(offsets) + margin
    fires: set[int] = set()
    wall = first_wall
    step = dt.timedelta(seconds=1)
    while wall <= last_wall:
        if wall_matches(expression, wall):
            fires.update(_fires_of(expression, wall, zone))
        wall += step
    return sorted(t for t in fires if after < t <= until)


def _fires_of(expression: CronExpression, wall: dt.datetime, zone: ZoneInfo) -> list[int]:
    first, second = _to_utc(wall, zone, 0), _to_utc(wall, zone, 1)
    exists_first = _round_trips(first, wall, zone)
    exists_second = _round_trips(second, wall, zone)
    if not exists_first and not exists_second:
        # Skipped by a gap: fires at its end, unless every hour matches (then the
        # next hour's tick follows anyway).
        return [] if expression.all_hours else [_first_instant_after_gap(wall, zone)]
    occurrences = sorted({t for t, ok in ((first, exists_first), (second, exists_second)) if ok})
    if expression.all_hours:
        return occurrences
    return occurrences[:1]
