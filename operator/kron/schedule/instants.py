"""The two absolute forms, ``@every <duration>`` and ``@at <instant>``: parsing and ticks.

They ignore time zones and DST, so they only need exact integer arithmetic. Durations
follow Go's ``time.ParseDuration`` spelling restricted to the units ``h``, ``m`` and
``s`` (decimal fractions allowed, e.g. ``1.5h``), and must come to a whole number of
seconds, at least one. Instants are RFC 3339 with an explicit offset; fire times are
whole seconds, so a non-zero fraction is rejected rather than silently rounded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Final

from kron.schedule.errors import ScheduleError, quote
from kron.schedule.limits import MAX_INSTANT, MAX_YEAR, MIN_INSTANT, MIN_YEAR

EVERY_FIELD: Final = "@every duration"
AT_FIELD: Final = "@at instant"

MAX_EVERY_SECONDS: Final = 100 * 365 * 86_400  # a century: anything longer is a typo

_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]*\.?[0-9]*)([^0-9.]*)")
_SUBSECOND_UNITS: Final = frozenset({"ms", "us", "\u00b5s", "\u03bcs", "ns"})


def parse_every(text: str, expression: str) -> int:
    """Seconds in a Go-style duration such as ``90s``, ``1h30m`` or ``1.5h``."""

    def fail(reason: str) -> ScheduleError:
        return ScheduleError(expression, EVERY_FIELD, reason)

    if not text:
        raise fail("missing duration (e.g. 90s, 1h30m)")
    if text[0] in "+-":
        raise fail("a duration cannot have a sign")
    total = Fraction(0)
    position = 0
    while position < len(text):
        match = _PART.match(text, position)
        assert match is not None  # the pattern matches the empty string
        number, unit = match.group(1), match.group(2)
        if number in ("", "."):
            raise fail(f"invalid duration {quote(text)} (e.g. 90s, 1h30m)")
        if not unit:
            raise fail(f"missing unit after {number} (use h, m or s)")
        if unit in _SUBSECOND_UNITS:
            raise fail(f"unit {quote(unit)} is not supported (use h, m or s)")
        if unit not in _UNIT_SECONDS:
            raise fail(f"unknown unit {quote(unit)} (use h, m or s)")
        if len(number) > 15:
            raise fail(f"duration {quote(text)} is too long")
        total += Fraction(number) * _UNIT_SECONDS[unit]
        position = match.end()
    if total.denominator != 1:
        raise fail(f"{quote(text)} is not a whole number of seconds")
    if total < 1:
        raise fail("must be at least 1s")
    if total > MAX_EVERY_SECONDS:
        raise fail("must be at most 100 years")
    return int(total)


_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]+))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_at(text: str, expression: str) -> int:
    """Unix seconds of an RFC 3339 instant such as ``2030-01-01T09:00:00+01:00``."""

    def fail(reason: str) -> ScheduleError:
        return ScheduleError(expression, AT_FIELD, reason)

    if not text:
        raise fail("missing instant (e.g. 2030-01-01T09:00:00Z)")
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise fail(f"{quote(text)} is not an RFC 3339 instant (e.g. 2030-01-01T09:00:00Z)")
    if match["offset"] is None:
        raise fail("missing UTC offset (end with Z or +hh:mm)")
    if match["frac"] is not None and match["frac"].strip("0"):
        raise fail("sub-second precision is not supported (ticks are whole seconds)")
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"])
    if second == 60:
        raise fail("leap second 60 is not supported")
    offset = _parse_offset(match["offset"], fail)
    try:
        date = dt.date.fromisoformat(match["date"])
        local = dt.datetime.combine(date, dt.time(hour, minute, second))
    except ValueError as error:
        raise fail(f"{quote(text)}: {error}") from None
    instant = int(local.replace(tzinfo=dt.timezone(offset)).timestamp())
    if not MIN_INSTANT <= instant < MAX_INSTANT:
        raise fail(f"must be within the years {MIN_YEAR}-{MAX_YEAR}")
    return instant


def _parse_offset(text: str, fail: Callable[[str], ScheduleError]) -> dt.timedelta:
    if text in ("Z", "z"):
        return dt.timedelta(0)
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise fail(f"invalid UTC offset {text}")
    delta = dt.timedelta(hours=hours, minutes=minutes)
    return -delta if text[0] == "-" else delta


class EverySchedule:
    """``@every``: multiples of the interval since the Unix epoch; no zone involved."""

    __slots__ = ("_first", "_interval", "_last")

    def __init__(self, interval: int) -> None:
        self._interval = interval
        self._first = -(-MIN_INSTANT // interval) * interval
        self._last = ((MAX_INSTANT - 1) // interval) * interval

    def next_after(self, after: int, until: int = MAX_INSTANT - 1) -> int | None:
        """First tick in ``(after, until]``, or None."""
        found = max((after // self._interval + 1) * self._interval, self._first)
        return found if found <= min(until, self._last) else None

    def prev_before(self, before: int, since: int = MIN_INSTANT) -> int | None:
        """Last tick in ``[since, before)``, or None."""
        found = min((before - 1) // self._interval * self._interval, self._last)
        return found if found >= max(since, self._first) else None


class AtSchedule:
    """``@at``: one instant."""

    __slots__ = ("_instant",)

    def __init__(self, instant: int) -> None:
        self._instant = instant

    def next_after(self, after: int, until: int = MAX_INSTANT - 1) -> int | None:
        """The instant if it lies in ``(after, until]``, else None."""
        return self._instant if after < self._instant <= until else None

    def prev_before(self, before: int, since: int = MIN_INSTANT) -> int | None:
        """The instant if it lies in ``[since, before)``, else None."""
        return self._instant if since <= self._instant < before else None
