"""Matching cron fields against wall-clock time, and searching for the next match.

Wall-clock time is represented as "wall seconds": the local date and time written
as if it were UTC and converted to Unix seconds (``2024-03-10T02:30`` local is the
same number in every zone). Whether such a time exists, or exists twice, is the
business of :mod:`kron.schedule.dst`; this module only answers "which wall times
match" quickly, using per-field lookup tables built once per expression.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence

from kron.schedule.limits import EPOCH_ORDINAL, MAX_YEAR, MIN_YEAR, SECONDS_PER_DAY
from kron.schedule.months import month_length

_fromordinal = dt.date.fromordinal


def _flags(values: frozenset[int], size: int) -> tuple[bool, ...]:
    return tuple(i in values for i in range(size))


def _next_table(flags: Sequence[bool]) -> tuple[int | None, ...]:
    """``table[i]``: smallest ``j >= i`` with ``flags[j]``; one extra trailing None."""
    table: list[int | None] = [None] * (len(flags) + 1)
    following: int | None = None
    for i in range(len(flags) - 1, -1, -1):
        if flags[i]:
            following = i
        table[i] = following
    return tuple(table)


def _prev_table(flags: Sequence[bool]) -> tuple[int | None, ...]:
    """``table[i]``: largest ``j <= i`` with ``flags[j]``."""
    table: list[int | None] = []
    preceding: int | None = None
    for i, flag in enumerate(flags):
        if flag:
            preceding = i
        table.append(preceding)
    return tuple(table)


TABLE_CACHE = 4096
"""Field tables kept for sharing. A pattern's tables are a function of one field's
values alone, and a fleet's patterns repeat them: 100,000 daily tasks on their own
second, minute and hour share about 150 tables instead of holding 20 each (about
7 KiB a task, measured with tracemalloc). Tables evicted from the cache stay with
the patterns that hold them; a new pattern then builds its own, as before."""

FieldTables = tuple[
    tuple[bool, ...], tuple[int | None, ...], tuple[int | None, ...], tuple[int | None, ...]
]


@functools.lru_cache(maxsize=TABLE_CACHE)
def _tables(values: frozenset[int], size: int) -> FieldTables:
    """A field's lookup tables: allowed, next allowed, previous allowed, next not allowed."""
    ok = _flags(values, size)
    return ok, _next_table(ok), _prev_table(ok), _next_table([not flag for flag in ok])


@functools.lru_cache(maxsize=TABLE_CACHE)
def _weekday_tables(
    weekdays: frozenset[int],
) -> tuple[tuple[bool, ...], tuple[int, ...], tuple[int, ...]]:
    """Allowed weekdays, and the days from each weekday to the nearest allowed one,
    forwards and backwards."""
    ok = _flags(weekdays, 7)
    ahead = tuple(min(k for k in range(7) if ok[(w + k) % 7]) for w in range(7))
    back = tuple(min(k for k in range(7) if ok[(w - k) % 7]) for w in range(7))
    return ok, ahead, back


def _first(values: Iterable[int]) -> int | None:
    return min(values, default=None)


class WallPattern:
    """The wall-clock times a cron expression (or exclusion) matches."""

    __slots__ = (
        "_days_or",
        "_dom_all",
        "_dom_min",
        "_dom_next",
        "_dom_ok",
        "_dom_prev",
        "_dow_ahead",
        "_dow_back",
        "_dow_ok",
        "_first_bad_min",
        "_first_bad_sec",
        "_first_min",
        "_first_month",
        "_first_sec",
        "_hour_bad_next",
        "_hour_next",
        "_hour_ok",
        "_hour_prev",
        "_last_min",
        "_last_month",
        "_last_sec",
        "_min_bad_next",
        "_min_next",
        "_min_ok",
        "_min_prev",
        "_month_next",
        "_month_ok",
        "_month_prev",
        "_sec_bad_next",
        "_sec_next",
        "_sec_ok",
        "_sec_prev",
        "all_hours",
        "matches_everything",
    )

    def __init__(
        self,
        *,
        seconds: frozenset[int],
        minutes: frozenset[int],
        hours: frozenset[int],
        days: frozenset[int],
        months: frozenset[int],
        weekdays: frozenset[int],
        days_or: bool,
    ) -> None:
        """Build from expanded field sets; ``weekdays`` uses 0 = Sunday .. 6 = Saturday.

        ``days_or`` is the Vixie rule: both day fields restricted, so a day matching
        either of them matches.
        """
        if not (seconds and minutes and hours and days and months and weekdays):
            raise ValueError("every field needs at least one value")
        self._sec_ok, self._sec_next, self._sec_prev, self._sec_bad_next = _tables(seconds, 60)
        self._min_ok, self._min_next, self._min_prev, self._min_bad_next = _tables(minutes, 60)
        self._hour_ok, self._hour_next, self._hour_prev, self._hour_bad_next = _tables(hours, 24)
        self._dom_ok, self._dom_next, self._dom_prev, _ = _tables(days, 32)
        self._month_ok, self._month_next, self._month_prev, _ = _tables(months, 13)
        self._dow_ok, self._dow_ahead, self._dow_back = _weekday_tables(weekdays)
        self._days_or = days_or
        self._dom_all = len(days) == 31
        # A month shorter than this has no matching day (only when the day-of-month
        # field alone decides, e.g. 29 for `0 0 29 2 *`).
        self._dom_min = 0 if days_or or self._dom_all else min(days)
        self.all_hours = len(hours) == 24
        all_dom, all_dow = len(days) == 31, len(weekdays) == 7
        every_day = len(months) == 12 and (
            (all_dom or all_dow) if days_or else (all_dom and all_dow)
        )
        self.matches_everything = (
            every_day and len(seconds) == 60 and len(minutes) == 60 and self.all_hours
        )
        self._first_sec, self._last_sec = min(seconds), max(seconds)
        self._first_min, self._last_min = min(minutes), max(minutes)
        self._first_month, self._last_month = min(months), max(months)
        self._first_bad_sec = _first(s for s in range(60) if s not in seconds)
        self._first_bad_min = _first(m for m in range(60) if m not in minutes)

    # -- single instants ---------------------------------------------------------------

    def _day_ok(self, date: dt.date, day: int) -> bool:
        if not self._month_ok[date.month]:
            return False
        weekday = (day + 4) % 7  # 1970-01-01 was a Thursday; 0 = Sunday
        if self._days_or:
            return self._dom_ok[date.day] or self._dow_ok[weekday]
        return self._dom_ok[date.day] and self._dow_ok[weekday]

    def _time_ok(self, sod: int) -> bool:
        hour, rest = divmod(sod, 3600)
        minute, second = divmod(rest, 60)
        return self._hour_ok[hour] and self._min_ok[minute] and self._sec_ok[second]

    def matches(self, wall: int) -> bool:
        """Does the wall-clock time ``wall`` (wall seconds) match every field?"""
        day, sod = divmod(wall, SECONDS_PER_DAY)
        return self._time_ok(sod) and self._day_ok(_fromordinal(day + EPOCH_ORDINAL), day)

    def _days_to_match(self, date: dt.date, weekday: int) -> int:
        """How many days from ``date`` on surely do not match (0 if it matches).

        Used only in an allowed month; the count may run into the next month, which
        the caller checks again.
        """
        to_dow = self._dow_ahead[weekday]
        if self._dom_all:
            return 0 if self._days_or else to_dow
        dom = date.day
        dom_next = self._dom_next[dom]
        if dom_next is not None and dom_next <= 28:
            to_dom = dom_next - dom
        else:
            # Never run past the first day of the next month.
            month_left = month_length(date.year, date.month) - dom + 1
            to_dom = month_left if dom_next is None else min(dom_next - dom, month_left)
        if self._days_or:
            return min(to_dom, to_dow)
        return max(to_dom, to_dow)

    def _days_since_match(self, date: dt.date, weekday: int) -> int:
        """Like :meth:`_days_to_match`, backwards."""
        dom = date.day
        dom_prev = self._dom_prev[dom]
        since_dom = dom if dom_prev is None else dom - dom_prev
        since_dow = self._dow_back[weekday]
        if self._days_or:
            return min(since_dom, since_dow)
        return max(since_dom, since_dow)

    # -- time of day -------------------------------------------------------------------

    def _next_time(self, sod: int) -> int | None:
        """Smallest matching second-of-day ``>= sod``, or None."""
        hour, rest = divmod(sod, 3600)
        minute, second = divmod(rest, 60)
        if self._hour_ok[hour]:
            if self._min_ok[minute]:
                found = self._sec_next[second]
                if found is not None:
                    return sod - second + found
            next_minute = self._min_next[minute + 1]
            if next_minute is not None:
                return hour * 3600 + next_minute * 60 + self._first_sec
        next_hour = self._hour_next[hour + 1]
        if next_hour is None:
            return None
        return next_hour * 3600 + self._first_min * 60 + self._first_sec

    def _prev_time(self, sod: int) -> int | None:
        """Largest matching second-of-day ``<= sod``, or None."""
        hour, rest = divmod(sod, 3600)
        minute, second = divmod(rest, 60)
        if self._hour_ok[hour]:
            if self._min_ok[minute]:
                found = self._sec_prev[second]
                if found is not None:
                    return sod - second + found
            prev_minute = self._min_prev[minute - 1] if minute else None
            if prev_minute is not None:
                return hour * 3600 + prev_minute * 60 + self._last_sec
        prev_hour = self._hour_prev[hour - 1] if hour else None
        if prev_hour is None:
            return None
        return prev_hour * 3600 + self._last_min * 60 + self._last_sec

    def _next_time_mismatch(self, sod: int) -> int | None:
        """Smallest second-of-day ``>= sod`` whose time does not match, or None."""
        hour, rest = divmod(sod, 3600)
        minute, second = divmod(rest, 60)
        if not (self._hour_ok[hour] and self._min_ok[minute] and self._sec_ok[second]):
            return sod
        bad_second = self._sec_bad_next[second]
        if bad_second is not None:
            return sod - second + bad_second
        # The rest of this minute matches. In a later minute of this hour, the first
        # mismatch is at second 0 of a minute not allowed, else at the first second
        # not allowed.
        if minute < 59:
            if not self._min_ok[minute + 1]:
                return hour * 3600 + (minute + 1) * 60
            if self._first_bad_sec is not None:
                return hour * 3600 + (minute + 1) * 60 + self._first_bad_sec
            bad_minute = self._min_bad_next[minute + 1]
            if bad_minute is not None:
                return hour * 3600 + bad_minute * 60
        if hour < 23:
            if not self._hour_ok[hour + 1]:
                return (hour + 1) * 3600
            in_hour = self._first_mismatch_in_allowed_hour()
            if in_hour is not None:
                return (hour + 1) * 3600 + in_hour
            bad_hour = self._hour_bad_next[hour + 1]
            if bad_hour is not None:
                return bad_hour * 3600
        return None

    def _first_mismatch_in_allowed_hour(self) -> int | None:
        if not self._min_ok[0]:
            return 0
        if self._first_bad_sec is not None:
            return self._first_bad_sec
        if self._first_bad_min is not None:
            return self._first_bad_min * 60
        return None

    # -- searches ----------------------------------------------------------------------

    def _month_possible(self, date: dt.date) -> bool:
        return self._month_ok[date.month] and (
            self._dom_min <= 28 or self._dom_min <= month_length(date.year, date.month)
        )

    def _next_month(self, date: dt.date) -> int | None:
        """Unix day of the first day of the next allowed month after ``date``'s."""
        month = self._month_next[date.month + 1]
        year = date.year
        if month is None:
            year, month = year + 1, self._first_month
        if year > MAX_YEAR + 1:
            return None
        return dt.date(year, month, 1).toordinal() - EPOCH_ORDINAL

    def _prev_month(self, date: dt.date) -> int | None:
        """Unix day of the last day of the previous allowed month before ``date``'s."""
        month = self._month_prev[date.month - 1]
        year = date.year
        if month is None:
            year, month = year - 1, self._last_month
        if year < MIN_YEAR - 1:
            return None
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return following.toordinal() - EPOCH_ORDINAL - 1

    def next_match(self, wall: int, limit: int) -> int | None:
        """Smallest matching wall time in ``[wall, limit]``, or None."""
        day, sod = divmod(wall, SECONDS_PER_DAY)
        last_day = limit // SECONDS_PER_DAY
        while day <= last_day:
            date = _fromordinal(day + EPOCH_ORDINAL)
            if not self._month_possible(date):
                next_month = self._next_month(date)
                if next_month is None:
                    return None
                day, sod = next_month, 0
                continue
            skip = self._days_to_match(date, (day + 4) % 7)
            if skip:
                day += skip
                sod = 0
                continue
            found = self._next_time(sod)
            if found is not None:
                result = day * SECONDS_PER_DAY + found
                return result if result <= limit else None
            day += 1
            sod = 0
        return None

    def prev_match(self, wall: int, limit: int) -> int | None:
        """Largest matching wall time in ``[limit, wall]``, or None."""
        day, sod = divmod(wall, SECONDS_PER_DAY)
        first_day = limit // SECONDS_PER_DAY
        while day >= first_day:
            date = _fromordinal(day + EPOCH_ORDINAL)
            if not self._month_possible(date):
                prev_month = self._prev_month(date)
                if prev_month is None:
                    return None
                day, sod = prev_month, SECONDS_PER_DAY - 1
                continue
            skip = self._days_since_match(date, (day + 4) % 7)
            if skip:
                day -= skip
                sod = SECONDS_PER_DAY - 1
                continue
            found = self._prev_time(sod)
            if found is not None:
                result = day * SECONDS_PER_DAY + found
                return result if result >= limit else None
            day -= 1
            sod = SECONDS_PER_DAY - 1
        return None

    def next_mismatch(self, wall: int, limit: int) -> int:
        """Smallest wall time in ``[wall, limit)`` that does not match, else ``limit``.

        Everything before the answer matches, so a caller may skip to it.
        """
        if self.matches_everything:
            return limit
        day, sod = divmod(wall, SECONDS_PER_DAY)
        while day * SECONDS_PER_DAY + sod < limit:
            if not self._day_ok(_fromordinal(day + EPOCH_ORDINAL), day):
                return day * SECONDS_PER_DAY + sod
            found = self._next_time_mismatch(sod)
            if found is not None:
                return min(day * SECONDS_PER_DAY + found, limit)
            day += 1
            sod = 0
        return limit
