"""A task's upcoming fires, day by day in its zone, with daylight-saving changes marked.

The fires come from `kron.planner.timeline_for` (what the operator will fire: union of
schedules, window, exclusions, jitter, the DST rule); the changes from the zone's
own offset table (`kron.schedule.zones`), so a day on which clocks go forward or back
is marked, and so is each fire the change moved (a wall time that does not exist that
day) or doubled (the repeated hour). Pure: ``start`` is passed in.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from kron.api import ScheduledTaskSpec
from kron.planner import timeline_for
from kron.schedule.zones import utc_year, zone_table
from kron.ui.model import clock_text, zone_abbreviation

MAX_DAYS = 62
MAX_FIRES_SHOWN_PER_DAY = 48


@dataclass(frozen=True, slots=True)
class Change:
    """The zone's UTC offset changes on this day."""

    forward: bool
    before: str  # wall clock just before: "02:00"
    after: str  # wall clock just after: "03:00"
    offsets: str  # "EST (UTC-05:00) to EDT (UTC-04:00)"
    instant: int
    shift: int  # seconds the offset changes by (negative: back)

    @property
    def text(self) -> str:
        verb = "go forward" if self.forward else "go back"
        return f"clocks {verb} at {self.before} to {self.after}: {self.offsets}"


@dataclass(slots=True)
class Fire:
    clock: str
    iso: str
    excluded: bool
    past: bool
    note: str = ""


@dataclass(slots=True)
class Day:
    date: dt.date
    fires: list[Fire] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    more: bool = False  # the day has fires beyond MAX_FIRES_SHOWN_PER_DAY
    from_now: bool = False  # today: only the fires still to come are listed

    @property
    def label(self) -> str:
        return self.date.strftime("%a %d %b %Y")

    @property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass(slots=True)
class Calendar:
    zone: str
    days: list[Day]
    jittered: bool


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"


def _wall(instant: int, offset: int) -> str:
    return dt.datetime.fromtimestamp(instant + offset, dt.UTC).strftime("%H:%M")


def zone_changes(zone_name: str, start: int, end: int) -> list[Change]:
    """Offset changes of the zone at instants in ``(start, end]``."""
    table = zone_table(zone_name)
    found: list[Change] = []
    for year in range(utc_year(start), utc_year(end) + 1):
        for instant, before, after in table.transitions(year):
            if not start < instant <= end:
                continue
            ahead = dt.datetime.fromtimestamp(instant, table.zone)
            behind = dt.datetime.fromtimestamp(instant - 1, table.zone)
            offsets = (
                f"{zone_abbreviation(behind)} ({_offset_text(before)}) to "
                f"{zone_abbreviation(ahead)} ({_offset_text(after)})"
            )
            found.append(
                Change(
                    forward=after > before,
                    before=_wall(instant, before),
                    after=_wall(instant, after),
                    offsets=offsets,
                    instant=instant,
                    shift=after - before,
                )
            )
    return found


def _note(nominal: int, changes: list[Change]) -> str:
    for change in changes:
        if change.forward and nominal == change.instant:
            return "moved: its wall time does not exist this day (fires as clocks jump)"
        if not change.forward and change.instant <= nominal < change.instant - change.shift:
            return "in the repeated hour: the wall clock shows this time a second time"
    return ""


def upcoming_days(
    spec: ScheduledTaskSpec, uid: str, start: float, days: int = 14, *, now: float
) -> Calendar:
    """The fires of the ``days`` days starting with the local day of ``start``; those
    before ``now`` are marked past.

    Raises ScheduleError / TimeZoneError for an unusable schedule or zone.
    """
    days = max(1, min(days, MAX_DAYS))
    timeline = timeline_for(spec, uid)
    zone = zone_table(spec.time_zone).zone
    first_day = dt.datetime.fromtimestamp(start, zone).date()
    calendar = Calendar(zone.key, [], jittered=bool(spec.jitter_seconds))
    by_date: dict[dt.date, Day] = {}
    for offset in range(days):
        day = Day(first_day + dt.timedelta(days=offset))
        by_date[day.date] = day
        calendar.days.append(day)
    begin = int(dt.datetime.combine(first_day, dt.time(), zone).timestamp())
    end_day = first_day + dt.timedelta(days=days)
    end = int(dt.datetime.combine(end_day, dt.time(), zone).timestamp()) - 1
    changes = zone_changes(zone.key, begin - 1, end)
    for change in changes:
        when = dt.datetime.fromtimestamp(change.instant, zone).date()
        if when in by_date:
            by_date[when].changes.append(change)
    for day in calendar.days:
        # Each day on its own, at most MAX_FIRES_SHOWN_PER_DAY + 1 ticks: a task firing
        # every second costs a few hundred ticks per page, not millions.
        day_begin = int(dt.datetime.combine(day.date, dt.time(), zone).timestamp())
        next_day = day.date + dt.timedelta(days=1)
        day_end = int(dt.datetime.combine(next_day, dt.time(), zone).timestamp()) - 1
        if day_begin <= now <= day_end:
            day_begin = int(now)  # today: from now on (the history has the rest)
            day.from_now = True
        ticks = timeline.ticks(day_begin - 1, day_end)
        for tick in itertools.islice(ticks, MAX_FIRES_SHOWN_PER_DAY + 1):
            if len(day.fires) == MAX_FIRES_SHOWN_PER_DAY:
                day.more = True
                break
            local = dt.datetime.fromtimestamp(tick.fire_at, zone)
            day.fires.append(
                Fire(
                    clock=clock_text(local),
                    iso=local.isoformat(),
                    excluded=tick.excluded,
                    past=tick.fire_at < now,
                    note=_note(tick.nominal, changes),
                )
            )
    if any(f.clock.count(":") > 1 for d in calendar.days for f in d.fires):
        for fire in (f for d in calendar.days for f in d.fires):  # one format on the page
            if fire.clock.count(":") == 1:
                fire.clock += ":00"
    return calendar
