"""A task's timeline: the union of its schedules, cut to its window, with exclusions
flagged and jitter applied.

This is what the planner asks "when next?" and "what did I miss?". It is immutable,
compiled once per distinct set of arguments (``compile_timeline`` is cached), and
answers queries without reading the clock: the caller passes the instants.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol

from kron.schedule.days import DayRule
from kron.schedule.dst import ZonedCron
from kron.schedule.errors import ScheduleError
from kron.schedule.expression import AtExpression, EveryExpression, parse_expression
from kron.schedule.instants import AtSchedule, EverySchedule
from kron.schedule.jitter import jitter_millis
from kron.schedule.limits import MAX_INSTANT, MIN_INSTANT
from kron.schedule.wallclock import WallPattern
from kron.schedule.zones import ZoneTable, zone_table

# ``upcoming`` finds a tick that is not excluded at any distance. Walking over
# excluded ticks is bounded, so exclusions that cover everything cannot make it loop
# for long: at most this many steps (one schedule searched for its next tick, or one
# wall-clock stretch an exclusion matches from end to end, skipped at once), and
# excluded ticks are skipped for at most this long in total: each year walked needs
# that year's zone table (well under a millisecond to build), and a walk that stays
# within ZONE_YEARS_CACHED years finds them cached the next time.
UPCOMING_SCAN_LIMIT: Final = 10_000
UPCOMING_EXCLUDED_SPAN: Final = 100 * 366 * 86_400
# Offsets stay within +-16 h, so two of them differ by less than this.
_MAX_OFFSET: Final = 2 * 86_400


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick of a timeline.

    ``nominal`` is the Unix second the schedule fires at (after the DST rule);
    ``fire_at`` adds the jitter; ``excluded`` says an exclusion matched it (the
    caller counts it and does not run it).
    """

    nominal: int
    fire_at: float
    excluded: bool


@dataclass(frozen=True, slots=True)
class LookAhead:
    """The ticks a look-ahead found, and why it stopped there.

    ``ended`` is ``FOUND`` (as many as asked), ``END`` (the timeline has no more
    ticks), ``BOUND`` (exclusions cover everything the bounded walk reached:
    ``UPCOMING_SCAN_LIMIT`` steps or ``UPCOMING_EXCLUDED_SPAN`` of excluded ticks; a
    later tick may still fire, it is only not shown) or ``STOPPED`` (the caller's
    ``stop`` said its budget ran out).
    """

    FOUND: ClassVar[str] = "found"
    END: ClassVar[str] = "end"
    BOUND: ClassVar[str] = "bound"
    STOPPED: ClassVar[str] = "stopped"

    ticks: list[Tick]
    ended: str


class _Source(Protocol):
    def next_after(self, after: int, until: int = ...) -> int | None: ...

    def prev_before(self, before: int, since: int = ...) -> int | None: ...


class Timeline:
    """The union of a task's schedules with its window, exclusions and jitter."""

    __slots__ = (
        "_end",
        "_exclusions",
        "_jitter_seconds",
        "_key",
        "_one_off",
        "_seed",
        "_sources",
        "_start",
        "_table",
    )

    def __init__(
        self,
        *,
        key: tuple[object, ...],
        sources: Sequence[_Source],
        exclusions: Sequence[WallPattern | DayRule],
        table: ZoneTable,
        start: int,
        end: int,
        jitter_seconds: int,
        jitter_seed: str,
        one_off: bool,
    ) -> None:
        """Use :func:`compile_timeline`; this constructor does not validate."""
        self._key = key
        self._sources = tuple(sources)
        self._exclusions = tuple(exclusions)
        self._table = table
        self._start = max(start, MIN_INSTANT)
        self._end = min(end, MAX_INSTANT - 1)
        self._jitter_seconds = jitter_seconds
        self._seed = jitter_seed
        self._one_off = one_off

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeline) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        schedules, zone = self._key[0], self._key[1]
        return f"Timeline(schedules={schedules!r}, time_zone={zone!r})"

    @property
    def is_one_off(self) -> bool:
        """Only ``@at`` expressions: the timeline is finite."""
        return self._one_off

    @property
    def time_zone(self) -> str:
        """The IANA zone cron fields and exclusions are read in."""
        return self._table.name

    # -- nominal instants --------------------------------------------------------------

    def _next_nominal(self, after: int, until: int | None = None) -> int | None:
        limit = self._end if until is None or until > self._end else until
        after = max(after, self._start - 1)
        best: int | None = None
        for source in self._sources:
            found = source.next_after(after, limit)
            if found is not None:
                best = found
                limit = found - 1
        return best

    def _prev_nominal(self, before: int) -> int | None:
        since = self._start
        before = min(before, self._end + 1)
        best: int | None = None
        for source in self._sources:
            found = source.prev_before(before, since)
            if found is not None:
                best = found
                since = found + 1
        return best

    # -- ticks -------------------------------------------------------------------------

    def _matching_exclusion(self, wall: int) -> WallPattern | DayRule | None:
        for pattern in self._exclusions:
            if pattern.matches(wall):
                return pattern
        return None

    def _is_excluded(self, nominal: int) -> bool:
        wall = nominal + self._table.segment(nominal).offset
        return self._matching_exclusion(wall) is not None

    def _excluded_until(self, nominal: int, limit: int, steps: int) -> tuple[int | None, int]:
        """``(None, used)`` if no exclusion matches ``nominal``; else ``(resume, used)``
        with every instant in ``[nominal, resume)`` excluded. ``used`` counts the
        exclusion stretches looked at and the calendar days jumped (at most ``steps``,
        at least one); the search stops once it
        knows everything up to ``limit`` is excluded (``resume`` is then past it).

        The exclusions are wall-clock patterns: the stretch of wall times they cover
        one after the other is found without the zone, then turned into an instant
        by the zone table around its end only, however long it is.
        """
        table = self._table
        segment = table.segment(nominal)
        wall = nominal + segment.offset
        wall_limit = limit + segment.offset + _MAX_OFFSET
        pattern = self._matching_exclusion(wall)
        if pattern is None:
            return None, 0
        reached, used = wall, 0
        while pattern is not None:
            if isinstance(pattern, DayRule):
                # Calendar days are jumped one day (or range, or gap to the next
                # allowed day) at a time: each jump is a step.
                reached, jumps = pattern.skip(reached, wall_limit, steps - used)
                used += jumps
            else:
                used += 1
                reached = pattern.next_mismatch(reached, wall_limit)
            if used >= steps or reached >= wall_limit:
                break
            pattern = self._matching_exclusion(reached)
        end_wall = segment.end + segment.offset
        if reached <= end_wall:
            return nominal + (reached - wall), used
        if end_wall - wall < _MAX_OFFSET:
            # After a DST change the clock may show wall times before `wall` again;
            # continue from the change (the next step looks at it afresh).
            return segment.end, used
        # Instants after this segment show wall times of at least end_wall minus an
        # offset difference, so above `wall`: all excluded until the clock reaches
        # `reached`.
        return table.first_reaching(reached), used

    def _tick(self, nominal: int, following: int | None, excluded: bool | None = None) -> Tick:
        if excluded is None:
            excluded = bool(self._exclusions) and self._is_excluded(nominal)
        if not self._jitter_seconds:
            return Tick(nominal, float(nominal), excluded)
        interval = None if following is None else following - nominal
        millis = jitter_millis(self._seed, nominal, self._jitter_seconds, interval)
        return Tick(nominal, nominal + millis / 1000, excluded)

    def _following(self, nominal: int) -> int | None:
        """The next nominal instant, needed only to reduce jitter to the interval."""
        return self._next_nominal(nominal) if self._jitter_seconds else None

    def next_tick(self, after: int) -> Tick | None:
        """The first tick with ``nominal > after``; None when none remain."""
        nominal = self._next_nominal(after)
        if nominal is None:
            return None
        return self._tick(nominal, self._following(nominal))

    def prev_tick(self, before: int) -> Tick | None:
        """The last tick with ``nominal < before``; None if there is none."""
        nominal = self._prev_nominal(before)
        if nominal is None:
            return None
        return self._tick(nominal, self._following(nominal))

    def ticks(self, after: int, until: int) -> Iterator[Tick]:
        """Ticks with ``after < nominal <= until``, ascending, computed lazily."""
        nominal = self._next_nominal(after, until)
        while nominal is not None:
            if self._jitter_seconds:
                following = self._next_nominal(nominal)
                yield self._tick(nominal, following)
                nominal = following if following is not None and following <= until else None
            else:
                yield self._tick(nominal, None)
                nominal = self._next_nominal(nominal, until)

    def upcoming(
        self, after: int, count: int, stop: Callable[[], bool] | None = None
    ) -> list[Tick]:
        """The next ``count`` ticks after ``after`` that are not excluded (fewer if
        ``stop`` says so: the caller's budget for this question ran out).

        Fewer when the timeline ends, or when exclusions cover so much that
        ``UPCOMING_SCAN_LIMIT`` steps, or skipping excluded ticks for
        ``UPCOMING_EXCLUDED_SPAN`` seconds, find no more. A tick that is not excluded
        is found at any distance. :meth:`look_ahead` also says which of these ended it.
        """
        return self.look_ahead(after, count, stop).ticks

    def look_ahead(
        self, after: int, count: int, stop: Callable[[], bool] | None = None
    ) -> LookAhead:
        """:meth:`upcoming`, with how the search ended (see :class:`LookAhead`)."""
        found: list[Tick] = []
        jitter = bool(self._jitter_seconds)
        waiting: int | None = None  # found, but its jitter needs the following tick
        steps, span = UPCOMING_SCAN_LIMIT, UPCOMING_EXCLUDED_SPAN
        skipping_from: int | None = None  # the excluded tick the walk is skipping from
        at = after
        ended = LookAhead.BOUND
        while len(found) < count:
            if steps <= 0:
                break
            if stop is not None and stop():
                ended = LookAhead.STOPPED
                break
            steps -= len(self._sources)
            until = None if skipping_from is None else skipping_from + span
            nominal = self._next_nominal(at, until)
            if waiting is not None:
                following = self._following(waiting) if nominal is None else nominal
                found.append(self._tick(waiting, following, excluded=False))
                waiting = None
                if len(found) >= count:
                    break
            if nominal is None:
                if skipping_from is None or skipping_from + span >= self._end:
                    ended = LookAhead.END
                break
            if skipping_from is not None:
                span -= nominal - skipping_from
                skipping_from = None
            resume = None
            if self._exclusions:
                resume, used = self._excluded_until(nominal, nominal + span, steps)
                steps -= used
            if resume is not None:
                if resume > nominal + span:
                    break
                skipping_from, at = nominal, resume - 1
                continue
            if jitter:
                waiting = nominal
            else:
                found.append(Tick(nominal, float(nominal), False))
            at = nominal
        if waiting is not None:
            found.append(self._tick(waiting, self._following(waiting), excluded=False))
        if len(found) >= count:
            ended = LookAhead.FOUND
        return LookAhead(found, ended)

    def matches(self, instant: int) -> bool:
        """Is there a tick whose nominal instant is exactly ``instant``?"""
        return self._next_nominal(instant - 1, instant) == instant


@functools.lru_cache(maxsize=4096)
def _zoned_cron(text: str, time_zone: str) -> ZonedCron:
    expression = parse_expression(text)
    assert expression.kind == "cron"
    return ZonedCron(expression.wall_pattern(), zone_table(time_zone))


@functools.lru_cache(maxsize=4096)
def _exclusion(text: str) -> WallPattern:
    try:
        expression = parse_expression(text)
    except ScheduleError as error:
        raise ScheduleError(
            error.expression, error.field, error.reason, label="exclusion"
        ) from None
    if expression.kind != "cron":
        raise ScheduleError(
            text, None, "exclusions must be cron expressions, not @every or @at", label="exclusion"
        )
    return expression.wall_pattern(any_second=True)


def _source(text: str, time_zone: str) -> _Source:
    expression = parse_expression(text)
    if isinstance(expression, EveryExpression):
        return EverySchedule(expression.seconds)
    if isinstance(expression, AtExpression):
        return AtSchedule(expression.instant)
    return _zoned_cron(text, time_zone)


def compile_timeline(
    *,
    schedules: Sequence[str],
    time_zone: str = "UTC",
    start: int | None = None,
    end: int | None = None,
    exclude: Sequence[str] = (),
    jitter_seconds: int = 0,
    jitter_seed: str = "",
    days: DayRule | None = None,
) -> Timeline:
    """Compile a task's timeline; raises :class:`ScheduleError` / ``TimeZoneError``.

    ``start`` and ``end`` bound an inclusive window (Unix seconds); ``days`` excludes
    ticks by their wall-clock day (the task's calendars). Cached on its arguments, so
    calling it on every reconcile is cheap.
    """
    if isinstance(schedules, str) or isinstance(exclude, str):
        raise TypeError("schedules and exclude take sequences of expressions, not a string")
    return _compile(
        schedules=tuple(schedules),
        time_zone=time_zone,
        start=start,
        end=end,
        exclude=tuple(exclude),
        jitter_seconds=jitter_seconds,
        jitter_seed=jitter_seed,
        days=days,
    )


@functools.lru_cache(maxsize=1 << 17)
def _compile(
    *,
    schedules: tuple[str, ...],
    time_zone: str,
    start: int | None,
    end: int | None,
    exclude: tuple[str, ...],
    jitter_seconds: int,
    jitter_seed: str,
    days: DayRule | None = None,
) -> Timeline:
    if not schedules:
        raise ScheduleError("", None, "at least one schedule is required", label="schedules")
    if jitter_seconds < 0:
        raise ScheduleError(
            str(jitter_seconds), None, "must not be negative", label="jitterSeconds"
        )
    table = zone_table(time_zone)
    unique = tuple(dict.fromkeys(schedules))
    sources = [_source(text, time_zone) for text in unique]
    exclusions: list[WallPattern | DayRule] = [_exclusion(text) for text in dict.fromkeys(exclude)]
    if days is not None:
        exclusions.append(days)
    return Timeline(
        key=(schedules, time_zone, start, end, exclude, jitter_seconds, jitter_seed, days),
        sources=sources,
        exclusions=exclusions,
        table=table,
        start=MIN_INSTANT if start is None else start,
        end=MAX_INSTANT - 1 if end is None else end,
        jitter_seconds=jitter_seconds,
        jitter_seed=jitter_seed,
        one_off=all(parse_expression(text).kind == "at" for text in unique),
    )
