"""A task's timeline: the union of its schedules, cut to its window, with exclusions
flagged and jitter applied.

This is what the planner asks "when next?" and "what did I miss?". It is immutable,
compiled once per distinct set of arguments (``compile_timeline`` is cached), and
answers queries without reading the clock: the caller passes the instants.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from kron.schedule.days import DayRule
from kron.schedule.dst import ZonedCron
from kron.schedule.errors import ScheduleError
from kron.schedule.expression import AtExpression, EveryExpression, parse_expression
from kron.schedule.instants import AtSchedule, EverySchedule
from kron.schedule.jitter import jitter_millis
from kron.schedule.limits import MAX_INSTANT, MIN_INSTANT
from kron.schedule.wallclock import WallPattern
from kron.schedule.zones import ZoneTable, zone_table

# ``upcoming`` examines at most this many ticks (or skips over excluded stretches),
# and looks at most this far ahead, so exclusions that cover everything cannot make
# it loop for long.
UPCOMING_SCAN_LIMIT: Final = 10_000
UPCOMING_HORIZON: Final = 100 * 366 * 86_400


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

    def _excluded_until(self, nominal: int) -> int | None:
        """None if no exclusion matches ``nominal``; else an instant ``> nominal`` such
        that every instant from ``nominal`` up to it (exclusive) is excluded."""
        if not self._exclusions:
            return None
        segment = self._table.segment(nominal)
        wall = nominal + segment.offset
        for pattern in self._exclusions:
            if pattern.matches(wall):
                resume = pattern.next_mismatch(wall, segment.end + segment.offset)
                return nominal + (resume - wall)
        return None

    def _tick(self, nominal: int, following: int | None, excluded: bool | None = None) -> Tick:
        if excluded is None:
            excluded = bool(self._exclusions) and self._excluded_until(nominal) is not None
        if not self._jitter_seconds:
            return Tick(nominal, float(nominal), excluded)
        millis = jitter_millis(self._seed, nominal, self._jitter_seconds)
        if following is not None:
            millis = min(millis, (following - nominal) * 1000 - 1)
        return Tick(nominal, nominal + millis / 1000, excluded)

    def _following(self, nominal: int) -> int | None:
        """The next nominal instant, needed only to cap jitter."""
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

    def upcoming(self, after: int, count: int) -> list[Tick]:
        """The next ``count`` ticks after ``after`` that are not excluded.

        Fewer when the timeline ends, or when exclusions cover so much that
        ``UPCOMING_SCAN_LIMIT`` steps or ``UPCOMING_HORIZON`` seconds find no more.
        """
        found: list[Tick] = []
        horizon = after + UPCOMING_HORIZON
        jitter = bool(self._jitter_seconds)
        waiting: int | None = None  # found, but its jitter needs the following tick
        at = after
        for _ in range(UPCOMING_SCAN_LIMIT):
            if len(found) >= count:
                break
            nominal = self._next_nominal(at, horizon)
            if waiting is not None:
                following = self._following(waiting) if nominal is None else nominal
                found.append(self._tick(waiting, following, excluded=False))
                waiting = None
                if len(found) >= count:
                    break
            if nominal is None:
                break
            resume = self._excluded_until(nominal)
            if resume is not None:
                at = resume - 1
                continue
            if jitter:
                waiting = nominal
            else:
                found.append(Tick(nominal, float(nominal), False))
            at = nominal
        if waiting is not None:
            found.append(self._tick(waiting, self._following(waiting), excluded=False))
        return found

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
