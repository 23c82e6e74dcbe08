"""Helpers for the schedule tests: instant conversions and a brute-force reference.

The reference decides the DST rule from PEP 495 datetimes (``fold``) wall time by
wall time, independently of the engine's segment/high-water approach, so comparing
the two checks the engine's iteration rather than restating it. It also decides the
month-dependent day forms (L, W, #) from their definitions, date by date, instead of
the engine's month-shape masks.
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
    return day_matches(expression, wall.date())


def day_matches(expression: CronExpression, date: dt.date) -> bool:
    """The day fields by their definitions (Vixie rule, L, W, #), one date at a time."""
    rules = expression.rules
    weekday = date.isoweekday() % 7
    last = _last_day(date)
    dom = (
        date.day in expression.days
        or any(date == last - dt.timedelta(days=n) for n in rules.last)
        or any(_nearest_weekday(last - dt.timedelta(days=n), date) for n in rules.last_weekday)
        or any(_nearest_weekday(_day(date, n), date) for n in rules.nearest_weekday)
    )
    dow = (
        weekday in expression.weekdays
        or (weekday, (date.day - 1) // 7 + 1) in rules.nth
        or (weekday in rules.last_of and (date + dt.timedelta(days=7)).month != date.month)
    )
    return (dom or dow) if expression.days_or else (dom and dow)


def _last_day(date: dt.date) -> dt.date:
    following = date.replace(day=28) + dt.timedelta(days=4)
    return following - dt.timedelta(days=following.day)


def _day(date: dt.date, day: int) -> dt.date | None:
    try:
        return date.replace(day=day)
    except ValueError:
        return None


def _nearest_weekday(target: dt.date | None, date: dt.date) -> bool:
    """Is ``date`` the Monday-Friday day of ``target``'s month closest to ``target``?"""
    if target is None or target.month != date.month or date.isoweekday() > 5:
        return False
    same_month = [
        target + dt.timedelta(days=k)
        for k in range(-3, 4)
        if (target + dt.timedelta(days=k)).month == target.month
        and (target + dt.timedelta(days=k)).isoweekday() <= 5
    ]
    return date == min(same_month, key=lambda d: abs((d - target).days))


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


def reference_fires_by_day(
    expression: CronExpression, zone_name: str, after: int, until: int
) -> list[int]:
    """Like :func:`reference_fires` for windows of months or years: walks dates, then
    every time of day the (small) time fields allow, instead of every second."""
    zone = ZoneInfo(zone_name)
    date = (dt.datetime.fromtimestamp(after, UTC) - dt.timedelta(days=2)).date()
    last = (dt.datetime.fromtimestamp(until, UTC) + dt.timedelta(days=2)).date()
    times = sorted(
        dt.time(hour, minute, second)
        for hour in expression.hours
        for minute in expression.minutes
        for second in expression.seconds
    )
    fires: set[int] = set()
    while date <= last:
        if date.month in expression.months and day_matches(expression, date):
            for time in times:
                fires.update(_fires_of(expression, dt.datetime.combine(date, time), zone))
        date += dt.timedelta(days=1)
    return sorted(t for t in fires if after < t <= until)


def day_items_for(date: dt.date) -> list[str]:
    """Month-dependent day items (both fields) that select ``date``, by definition."""
    last = _last_day(date)
    weekday = date.isoweekday() % 7
    day_of_month: list[str] = []
    if date == last:
        day_of_month.append("L")
    if 1 <= (last - date).days <= 30:
        day_of_month.append(f"L-{(last - date).days}")
    if date.isoweekday() <= 5:
        day_of_month.append(f"{date.day}W")
        later = [last - dt.timedelta(days=k) for k in range((last - date).days)]
        if all(d.isoweekday() > 5 for d in later):
            day_of_month.append("LW")
    day_of_week = [f"{weekday}#{(date.day - 1) // 7 + 1}"]
    if (date + dt.timedelta(days=7)).month != date.month:
        day_of_week.append(f"{weekday}L")
    return [f"{item} * *" for item in day_of_month] + [f"? * {item}" for item in day_of_week]


def first_instant_showing(wall: dt.datetime, zone_name: str) -> int:
    """The first instant whose clock shows ``wall`` (naive), or the end of the gap that
    skips it: where the DST rule fires a nightly job set to ``wall``."""
    zone = ZoneInfo(zone_name)
    first, second = _to_utc(wall, zone, 0), _to_utc(wall, zone, 1)
    existing = [t for t in (first, second) if _round_trips(t, wall, zone)]
    return min(existing) if existing else _first_instant_after_gap(wall, zone)
