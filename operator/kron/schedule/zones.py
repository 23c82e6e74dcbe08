"""Time zones: loading them, and the table of their UTC-offset changes.

The DST rule works on stretches of real time during which a zone's UTC offset is
constant ("segments"). ``zoneinfo`` does not expose its transitions, so they are
found by sampling the offset every three days and bisecting to the exact second
where it changes. tzdata has no two offset changes closer than 3.98 days (Africa/
Freetown, 1939; tests/unit/schedule/test_schedule_zones.py checks the installed
tzdata), so the sampling step cannot miss one. Transitions are computed per zone
and UTC year, on demand, and the most recently used ZONE_YEARS_CACHED years of
each zone are kept; every year also starts a segment, so a zone without DST still
has finite segments.

Loading a zone reads the tz database once per name (the only I/O in the package).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from bisect import bisect_right
from collections import OrderedDict
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kron.schedule.errors import TimeZoneError
from kron.schedule.limits import (
    EPOCH_ORDINAL,
    MAX_INSTANT,
    MAX_YEAR,
    MIN_INSTANT,
    MIN_YEAR,
    SECONDS_PER_DAY,
)

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")
# Names that depend on the host or are not civil time.
_REJECTED = frozenset({"localtime", "posixrules"})

_SAMPLE_STEP: Final = 3 * SECONDS_PER_DAY
ZONE_YEARS_CACHED: Final = 128
"""Years of one zone whose segments stay cached (a search that crosses centuries
recomputes the ones it evicted; memory stays bounded whatever tasks ask)."""
# A zone's offsets differ by at most ~26 h, so no wall time earlier than this far
# before an instant can exceed the wall time just before it.
_LOOKBACK: Final = 3 * SECONDS_PER_DAY


@functools.lru_cache(maxsize=1024)
def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; raises :class:`TimeZoneError`."""
    if not _ZONE_NAME.fullmatch(name) or name in _REJECTED or name.startswith("right/"):
        raise TimeZoneError(name, "not a valid IANA time zone name (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimeZoneError(name, "unknown IANA time zone (e.g. Europe/Berlin)") from None


class Segment(NamedTuple):
    """Real instants ``[start, end)`` during which the zone's UTC offset is constant.

    ``high_water`` is the latest wall time (wall seconds) the zone's clock showed at
    any instant before ``start``: wall times up to it have already occurred once.
    """

    start: int
    end: int
    offset: int
    high_water: int


def year_start(year: int) -> int:
    """Unix seconds of January 1st, 00:00 UTC, of ``year``."""
    return (dt.date(year, 1, 1).toordinal() - EPOCH_ORDINAL) * SECONDS_PER_DAY


def utc_year(instant: int) -> int:
    return dt.date.fromordinal(instant // SECONDS_PER_DAY + EPOCH_ORDINAL).year


class ZoneTable:
    """Segments of one zone, built per UTC year on first use."""

    __slots__ = ("_last", "_segments", "_starts", "_transitions", "name", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.name = zone.key
        self._transitions: OrderedDict[int, list[tuple[int, int, int]]] = OrderedDict()
        self._starts: dict[int, list[int]] = {}
        self._segments: OrderedDict[int, list[Segment]] = OrderedDict()
        # Queries cluster around "now": remember the last segment handed out.
        self._last = Segment(0, 0, 0, 0)

    def offset(self, instant: int) -> int:
        """UTC offset in seconds at a real instant (straight from zoneinfo)."""
        delta = dt.datetime.fromtimestamp(instant, self.zone).utcoffset()
        assert delta is not None
        return delta.days * SECONDS_PER_DAY + delta.seconds

    def segment(self, instant: int) -> Segment:
        """The segment containing ``instant``."""
        last = self._last
        if last.start <= instant < last.end:
            return last
        year = utc_year(instant)
        segments = self._segments.get(year)
        if segments is None:
            segments = self._build(year)
        else:
            self._segments.move_to_end(year)
        if len(segments) == 1:
            last = segments[0]
        else:
            last = segments[bisect_right(self._starts[year], instant) - 1]
        self._last = last
        return last

    def first_reaching(self, wall: int) -> int:
        """The first instant at which the clock has shown ``wall`` or a later wall time.

        That is ``wall`` read in the zone if it exists (its first occurrence if it
        repeats), else the end of the gap that skipped it; ``MAX_INSTANT`` past the
        supported range. Only the segments around ``wall`` are looked at.
        """
        # Offsets stay within +-16 h, so no instant up to here has shown `wall` yet.
        at = max(wall - 2 * SECONDS_PER_DAY, MIN_INSTANT)
        while at < MAX_INSTANT:
            _, end, offset, _ = self.segment(at)
            if at + offset >= wall:
                return at
            if wall - offset < end:
                return wall - offset
            at = end
        return MAX_INSTANT

    def offset_at(self, instant: int) -> int:
        """UTC offset at ``instant`` from the cached segments (cheaper than zoneinfo)."""
        return self.segment(instant).offset

    def transitions(self, year: int) -> list[tuple[int, int, int]]:
        """``(instant, offset before, offset after)`` of each offset change in a UTC year."""
        found = self._transitions.get(year)
        if found is None:
            found = self._scan(year_start(year) - 1, year_start(year + 1) - 1)
            self._transitions[year] = found
            while len(self._transitions) > ZONE_YEARS_CACHED + 1:
                self._transitions.popitem(last=False)
        else:
            self._transitions.move_to_end(year)
        return found

    def _scan(self, low: int, high: int) -> list[tuple[int, int, int]]:
        """Offset changes at instants ``t`` in ``(low, high]`` (offset(t) != offset(t-1))."""
        found: list[tuple[int, int, int]] = []
        offset = self.offset
        at, at_offset = low, offset(low)
        while at < high:
            sample = min(at + _SAMPLE_STEP, high)
            sample_offset = offset(sample)
            while sample_offset != at_offset:
                before, after = at, sample  # offset(before) == at_offset != offset(after)
                while after - before > 1:
                    middle = (before + after) // 2
                    if offset(middle) == at_offset:
                        before = middle
                    else:
                        after = middle
                new_offset = offset(after)
                found.append((after, at_offset, new_offset))
                at, at_offset = after, new_offset
            at, at_offset = sample, sample_offset
        return found

    def _build(self, year: int) -> list[Segment]:
        if not MIN_YEAR - 1 <= year <= MAX_YEAR + 1:
            raise ValueError(f"year {year} outside the supported range")
        begin, finish = year_start(year), year_start(year + 1)
        changes = self.transitions(year)
        nearby = [*self.transitions(year - 1), *changes] if year > MIN_YEAR - 1 else changes
        starts = [begin] + [instant for instant, _, _ in changes if instant != begin]
        segments: list[Segment] = []
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else finish
            before = self.offset(start - 1)
            high_water = start - 1 + before
            for instant, offset_before, _ in nearby:
                if start - _LOOKBACK < instant < start:
                    high_water = max(high_water, instant - 1 + offset_before)
            segments.append(Segment(start, end, self.offset(start), high_water))
        self._starts[year] = starts
        self._segments[year] = segments
        while len(self._segments) > ZONE_YEARS_CACHED:
            evicted, _ = self._segments.popitem(last=False)
            del self._starts[evicted]
        return segments


@functools.lru_cache(maxsize=1024)
def zone_table(name: str) -> ZoneTable:
    """The shared, lazily filled segment table of a zone; raises TimeZoneError."""
    return ZoneTable(load_zone(name))
