"""The DST rule: which real instants a cron expression fires at in a zone.

Wall-clock matches (:mod:`kron.schedule.wallclock`) become real instants per
segment of constant UTC offset (:mod:`kron.schedule.zones`). With ``wall(t)`` the
zone's clock at instant ``t`` and ``high(t)`` the latest wall time shown at any
instant up to ``t``, the rule of api.md reads:

* a matching wall time ``w`` fires at the first instant at which the clock has
  reached it, ``min{t : high(t) >= w}``. That is its only occurrence for an ordinary
  time, its first occurrence for a repeated one (fall back), and the first instant
  after the gap for one that does not exist (spring forward), so every wall time
  skipped by one gap collapses into one fire at the transition;
* except when the hour field allows all 24 hours: then exactly the instants whose
  wall time matches fire, so repeated wall times fire at both occurrences and wall
  times skipped by a gap do not fire (the next hour's tick follows anyway). This is
  what every peer cron does with "every hour" expressions, and it is symmetric: such
  an expression follows elapsed time through both kinds of change.

The union of fire instants is a set, so each instant fires at most once. croniter's
own iteration is not used: it fires fixed-time jobs twice on fall-back.
"""

from __future__ import annotations

from kron.schedule.limits import MAX_INSTANT, MIN_INSTANT
from kron.schedule.wallclock import WallPattern
from kron.schedule.zones import ZoneTable

# More than any UTC offset, and than any difference of two offsets (tzdata's span
# from -15:56 to +15:13): bounds wall-time searches for an instant range.
_MAX_OFFSET = 2 * 86_400


class ZonedCron:
    """A cron expression's fire instants in one zone.

    Shared by every task with the same expression and zone (it is cached per pair),
    so it remembers its last answers in each direction: tasks evaluated around the
    same instant then get the answer without a search. The memory is replaced as a
    whole tuple, so concurrent callers can at worst search again.
    """

    __slots__ = ("_next_memo", "_pattern", "_prev_memo", "_repeats", "_table")

    def __init__(self, pattern: WallPattern, table: ZoneTable) -> None:
        self._pattern = pattern
        self._table = table
        self._repeats = pattern.all_hours
        # Two remembered answers per direction (a task asks for its next tick and for
        # the one after it, to cap jitter). An entry (after, found) says found is the
        # first fire instant > after, hence also for every query in [after, found);
        # (before, found) says the same for prev_before and (found, before].
        self._next_memo = ((0, 0), (0, 0))
        self._prev_memo = ((0, 0), (0, 0))

    def next_after(self, after: int, until: int = MAX_INSTANT - 1) -> int | None:
        """First fire instant in ``(after, until]``, or None."""
        recent, older = self._next_memo
        if recent[0] <= after < recent[1]:
            found = recent[1]
        elif older[0] <= after < older[1]:
            found = older[1]
        else:
            searched = self._search_next(after, until)
            if searched is None:
                return None
            found = searched
            self._next_memo = ((after, found), recent)
        return found if found <= until else None

    def prev_before(self, before: int, since: int = MIN_INSTANT) -> int | None:
        """Last fire instant in ``[since, before)``, or None."""
        recent, older = self._prev_memo
        if recent[1] < before <= recent[0]:
            found = recent[1]
        elif older[1] < before <= older[0]:
            found = older[1]
        else:
            searched = self._search_prev(before, since)
            if searched is None:
                return None
            found = searched
            self._prev_memo = ((before, found), recent)
        return found if found >= since else None

    def _search_next(self, after: int, until: int) -> int | None:
        at = max(after + 1, MIN_INSTANT)
        until = min(until, MAX_INSTANT - 1)
        pattern, repeats, segment_of = self._pattern, self._repeats, self._table.segment
        # Wall times searched so far: none matches in [searched, match); `match` is
        # the next match (None: none up to `limit`). Segments whose wall times lie
        # before `match` are skipped without searching again.
        limit = until + _MAX_OFFSET
        searched, match = limit + 1, None
        while at <= until:
            start, end, offset, high_water = segment_of(at)
            if at == start:
                wall = start + offset
                if repeats and pattern.matches(wall):
                    return start
                if not repeats and high_water < wall:
                    # Wall times (high_water, wall] are first reached here, at once
                    # for all of them when a gap was skipped.
                    low = high_water + 1
                    if not searched <= low <= (limit if match is None else match):
                        searched, match = low, pattern.next_match(low, limit)
                    if match is not None and match <= wall:
                        return start
                at += 1
            low = at + offset
            if not repeats and low <= high_water:
                low = high_water + 1
            if not searched <= low <= (limit if match is None else match):
                searched, match = low, pattern.next_match(low, limit)
            if match is None:
                return None
            if match <= min(end - 1, until) + offset:
                return match - offset
            at = end
            # The match lies beyond this segment. Skip the segments in between without
            # building them (a rare day such as FEB MON#5 can be decades away): up to
            # `jump` every instant shows a wall time below `match`, and, after this
            # segment, one of at least end + offset - _MAX_OFFSET, so none of them fires.
            jump = match - offset - _MAX_OFFSET
            if jump > end and end + offset - _MAX_OFFSET >= searched:
                at = jump
        return None

    def _search_prev(self, before: int, since: int) -> int | None:
        at = min(before - 1, MAX_INSTANT - 1)
        since = max(since, MIN_INSTANT)
        pattern, repeats, segment_of = self._pattern, self._repeats, self._table.segment
        # Mirror image of next_after: no match in (match, searched].
        limit = since - _MAX_OFFSET
        searched, match = limit - 1, None
        while at >= since:
            start, _, offset, high_water = segment_of(at)
            low = max(start + 1, since) + offset
            if not repeats and low <= high_water:
                low = high_water + 1
            high = at + offset
            if low <= high:
                if not (limit if match is None else match) <= high <= searched:
                    searched, match = high, pattern.prev_match(high, limit)
                if match is None:
                    return None
                if match >= low:
                    return match - offset
            if start >= since:
                wall = start + offset
                if repeats:
                    if pattern.matches(wall):
                        return start
                elif high_water < wall and pattern.next_match(high_water + 1, wall) is not None:
                    return start
            at = start - 1
        return None
