"""Sets of calendar days, and the rule that excludes ticks by their wall-clock day.

A task's Calendars become one `DayRule`: the days it excludes (holidays) and, if it
is restricted to some, the only days it may fire on. A tick belongs to the calendar
day of its nominal instant on the wall clock of the task's time zone, after the DST
rule: a 02:30 tick moved to 03:00 by a spring-forward gap belongs to that same day,
and a tick at 00:30 belongs to the day that starts at the midnight before it. Jitter
does not move a tick to another day.

`DayRule` has the interface of an exclusion (`matches(wall)` and
`next_mismatch(wall, limit)` on wall-clock seconds), so the timeline treats it like
`excludeSchedules`: such ticks exist, are flagged excluded, and are skipped a whole
excluded stretch at a time when looking ahead. Pure: days are proleptic Gregorian
ordinals (`datetime.date.toordinal`), nothing reads a clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Final

from kron.schedule.limits import EPOCH_ORDINAL, SECONDS_PER_DAY

MAX_SKIP_STEPS: Final = 2_000
"""Most jumps one `next_mismatch` makes (each skips at least a day, a range or the
gap to the next allowed day); past it, it answers the day it reached, which is
still correct (everything before it is excluded) and the caller asks again.
`DayRule.skip` takes the caller's own step budget instead and says how much of it
it used: every jump is one step of the look-ahead."""
_LEAP_CYCLE: Final = 8
"""Years searched for the next occurrence of a yearly day (29 February: at most 8)."""


def day_of(wall: int) -> int:
    """The ordinal of the calendar day that wall-clock second `wall` lies in."""
    return wall // SECONDS_PER_DAY + EPOCH_ORDINAL


def day_start(ordinal: int) -> int:
    """The wall-clock second at which day `ordinal` begins."""
    return (ordinal - EPOCH_ORDINAL) * SECONDS_PER_DAY


class DaySet:
    """Days as merged inclusive ranges of ordinals, plus (month, day) pairs of every year.

    Immutable; equal and hashed by content, with the digest computed once, so
    timelines compiled with the same days share a cache entry.
    """

    __slots__ = ("_ends", "_hash", "_key", "_starts", "_yearly", "_yearly_set")

    def __init__(
        self,
        ranges: Iterable[tuple[int, int]] = (),
        yearly: Iterable[tuple[int, int]] = (),
    ) -> None:
        merged: list[list[int]] = []
        for start, end in sorted((a, b) for a, b in ranges if a <= b):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts: tuple[int, ...] = tuple(a for a, _ in merged)
        self._ends: tuple[int, ...] = tuple(b for _, b in merged)
        # Sorted for `_next_yearly`'s bisection, a set for membership: both lookups
        # cost the same whether a Calendar lists one yearly day or all 366.
        self._yearly: tuple[tuple[int, int], ...] = tuple(sorted(set(yearly)))
        self._yearly_set = frozenset(self._yearly)
        digest = hashlib.sha256(repr((self._starts, self._ends, self._yearly)).encode())
        self._key = digest.hexdigest()[:32]
        self._hash = hash(self._key)

    @classmethod
    def union(cls, sets: Sequence[DaySet]) -> DaySet:
        """Every day in any of `sets`."""
        if len(sets) == 1:
            return sets[0]
        ranges = [r for s in sets for r in zip(s._starts, s._ends, strict=True)]
        return cls(ranges, [y for s in sets for y in s._yearly])

    @property
    def key(self) -> str:
        """A digest of the content."""
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DaySet) and other._key == self._key

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"DaySet({len(self._starts)} ranges, {len(self._yearly)} yearly)"

    def __bool__(self) -> bool:
        return bool(self._starts or self._yearly)

    def _range_end(self, ordinal: int) -> int | None:
        """The last day of the range containing `ordinal`, if one does."""
        i = bisect_right(self._starts, ordinal) - 1
        if i >= 0 and self._ends[i] >= ordinal:
            return self._ends[i]
        return None

    def _yearly_has(self, ordinal: int) -> bool:
        if not self._yearly:
            return False
        date = dt.date.fromordinal(ordinal)
        return (date.month, date.day) in self._yearly_set

    def __contains__(self, ordinal: object) -> bool:
        if not isinstance(ordinal, int):
            return False
        return self._range_end(ordinal) is not None or self._yearly_has(ordinal)

    def excluded_through(self, ordinal: int) -> int:
        """For a day in the set: the last day of the stretch known to be in it from there
        (the end of its range, else the day itself)."""
        end = self._range_end(ordinal)
        return ordinal if end is None else end

    def next_member(self, ordinal: int) -> int | None:
        """The first day at or after `ordinal` in the set, if any."""
        best: int | None = None
        i = bisect_right(self._starts, ordinal) - 1
        if i >= 0 and self._ends[i] >= ordinal:
            return ordinal
        if i + 1 < len(self._starts):
            best = self._starts[i + 1]
        if self._yearly:
            found = self._next_yearly(ordinal)
            if found is not None and (best is None or found < best):
                best = found
        return best

    def _next_yearly(self, ordinal: int) -> int | None:
        """The first yearly day at or after `ordinal`: in each year from its own, the
        first (month, day) not before it, found by bisection. Of two consecutive
        entries at most one is 29 February, so a year needs at most two tries."""
        date = dt.date.fromordinal(ordinal)
        first = bisect_left(self._yearly, (date.month, date.day))
        for y in range(date.year, min(date.year + _LEAP_CYCLE, dt.MAXYEAR) + 1):
            for month, day in self._yearly[first : first + 2]:
                try:
                    return dt.date(y, month, day).toordinal()
                except ValueError:  # 29 February of a common year
                    continue
            first = 0
        return None


class DayRule:
    """Which wall-clock days a task does not fire on: those in `exclude`, and, when
    `only` is given, those not in it."""

    __slots__ = ("_exclude", "_hash", "_only")

    def __init__(self, exclude: DaySet | None = None, only: DaySet | None = None) -> None:
        self._exclude = exclude
        self._only = only
        self._hash = hash(("DayRule", exclude, only))

    @property
    def exclude(self) -> DaySet | None:
        return self._exclude

    @property
    def only(self) -> DaySet | None:
        return self._only

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DayRule)
            and other._exclude == self._exclude
            and other._only == self._only
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"DayRule(exclude={self._exclude!r}, only={self._only!r})"

    def excludes_day(self, ordinal: int) -> bool:
        """Whether a tick on day `ordinal` does not fire."""
        if self._exclude is not None and ordinal in self._exclude:
            return True
        return self._only is not None and ordinal not in self._only

    def matches(self, wall: int) -> bool:
        """Whether a tick at wall-clock second `wall` is excluded (by its day)."""
        return self.excludes_day(day_of(wall))

    def next_mismatch(self, wall: int, limit: int) -> int:
        """Smallest wall time in ``[wall, limit)`` on a day that is not excluded, else
        ``limit`` (or, after MAX_SKIP_STEPS jumps, the start of the day reached: every
        day before it is excluded). Everything before the answer is excluded."""
        return self.skip(wall, limit, MAX_SKIP_STEPS)[0]

    def skip(self, wall: int, limit: int, steps: int) -> tuple[int, int]:
        """`next_mismatch` within at most `steps` jumps (at least one): ``(answer,
        jumps made)``. Each jump costs a bisection or two, whatever the Calendars hold."""
        day = day_of(wall)
        for used in range(1, max(steps, 1) + 1):
            start = max(day_start(day), wall)
            if start >= limit:
                return limit, used
            if not self.excludes_day(day):
                return start, used
            jump = day + 1
            if self._exclude is not None and day in self._exclude:
                jump = max(jump, self._exclude.excluded_through(day) + 1)
            if self._only is not None and day not in self._only:
                member = self._only.next_member(day)
                if member is None:
                    return limit, used
                jump = max(jump, member)
            day = jump
        return min(max(day_start(day), wall), limit), max(steps, 1)
