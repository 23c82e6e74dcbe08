"""Upcoming fire times of an expression or a task, as the operator computes them.

The task form goes through `kron.planner.timeline_for`, the function the operator
itself uses, so the union of schedules, the window, exclusions and jitter can never
disagree between `kron next` and what actually fires.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kron.api import ScheduledTaskSpec
from kron.cli.timefmt import format_instant
from kron.planner import CalendarState, timeline_for
from kron.schedule import MAX_INSTANT, Tick, Timeline, compile_timeline, load_zone

MAX_COUNT = 1000
"""Most fire times one `kron next` lists (a typo should not print a million lines)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """What to print: the ticks, the zone to show them in, and how."""

    ticks: list[Tick]
    zone: ZoneInfo
    jittered: bool
    show_excluded: bool

    def lines(self) -> Iterator[str]:
        for tick in self.ticks:
            text = format_instant(tick.fire_at, self.zone, millis=self.jittered)
            yield f"{text}  excluded" if self.show_excluded and tick.excluded else text


def _take(timeline: Timeline, after: int, count: int, show_excluded: bool) -> list[Tick]:
    if not show_excluded:
        return timeline.upcoming(after, count)
    found: list[Tick] = []
    for tick in timeline.ticks(after, MAX_INSTANT - 1):
        found.append(tick)
        if len(found) >= count:
            break
    return found


def expression_times(expression: str, time_zone: str, after: int, count: int) -> Listing:
    """The next ``count`` fire times of one expression read in ``time_zone``.

    Raises ScheduleError (TimeZoneError for the zone) with a one-line message.
    """
    timeline = compile_timeline(schedules=[expression], time_zone=time_zone)
    return Listing(timeline.upcoming(after, count), load_zone(time_zone), False, False)


def task_times(
    spec: ScheduledTaskSpec,
    uid: str | None,
    after: int,
    count: int,
    *,
    show_excluded: bool = False,
    calendars: Mapping[str, CalendarState] | None = None,
) -> Listing:
    """The next ``count`` fire times of a task: jittered when ``uid`` is known, else
    nominal (jitter is seeded with the UID the API server assigns at creation).
    ``calendars``: the task's Calendars by name (None: leave them out)."""
    jittered = bool(spec.jitter_seconds) and uid is not None
    if uid is None and spec.jitter_seconds:
        spec = spec.model_copy(update={"jitter_seconds": 0})
    timeline = timeline_for(spec, uid or "", calendars)
    ticks = _take(timeline, after, count, show_excluded)
    return Listing(ticks, load_zone(spec.time_zone), jittered, show_excluded)
