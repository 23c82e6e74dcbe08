"""A task's timeline: its schedule fields and its Calendars, compiled by kron.schedule.

`timeline_for` is what the planner, `kron next` and `kron status` all use, so they
agree to the second. A task's Calendars arrive as `CalendarState`s from the engine's
index (only those its spec names); one that is missing or unusable is a
`CalendarError`, which makes the task unplannable with reason `CalendarNotFound` or
`InvalidCalendar`: it never fires as if the calendar were empty.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Mapping

from kron.api import ScheduledTaskSpec
from kron.api.calendar import CalendarSpec, parse_day
from kron.planner.conditions import Reason
from kron.planner.records import CalendarState
from kron.schedule import DayRule, DaySet, ScheduleError, Timeline, compile_timeline


class CalendarError(ScheduleError):
    """A Calendar the task names cannot be used; `condition_reason` says which way."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__("", None, message, label="calendars")
        self.condition_reason = reason

    def __str__(self) -> str:
        return self.reason


def calendar_days(spec: CalendarSpec) -> DaySet:
    """The days of a (validated) Calendar spec."""
    ranges: list[tuple[int, int]] = []
    yearly: list[tuple[int, int]] = []
    for entry in spec.entries:
        year, month, day = parse_day(entry.date)
        if year is None:
            yearly.append((month, day))
            continue
        first = dt.date(year, month, day).toordinal()
        last = dt.date.fromisoformat(entry.through).toordinal() if entry.through else first
        ranges.append((first, last))
    return DaySet(ranges, yearly)


def schedule_fingerprint(spec: ScheduledTaskSpec) -> str:
    """A digest of the fields that define the fire times; a change re-plans from now.

    Fields added after the first release enter only when set, so that upgrading kron
    does not look like a schedule edit to every existing task.
    """
    fields: dict[str, object] = {
        "schedules": spec.expressions,
        "timeZone": spec.time_zone,
        "startTime": spec.start_time.isoformat() if spec.start_time else None,
        "endTime": spec.end_time.isoformat() if spec.end_time else None,
        "exclude": list(spec.exclude_schedules or ()),
        "jitter": spec.jitter_seconds,
    }
    if spec.exclude_calendars:
        fields["excludeCalendars"] = sorted(spec.exclude_calendars)
    if spec.restrict_to_calendars:
        fields["restrictToCalendars"] = sorted(spec.restrict_to_calendars)
    if spec.max_runs is not None:
        fields["maxRuns"] = spec.max_runs
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def upcoming_key(spec: ScheduledTaskSpec, calendars: Mapping[str, CalendarState] | None) -> str:
    """A digest of what a task's upcoming fire times depend on besides the clock: its
    schedule fields (maxRuns included) and its Calendars' days."""
    rule = day_rule(spec, calendars)
    days = (
        None
        if rule is None
        else [s.key if s is not None else None for s in (rule.exclude, rule.only)]
    )
    text = json.dumps([schedule_fingerprint(spec), days])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _days(names: list[str] | None, calendars: Mapping[str, CalendarState]) -> DaySet | None:
    if not names:
        return None
    found: list[DaySet] = []
    for name in names:
        state = calendars.get(name)
        if state is None:
            raise CalendarError(
                Reason.CALENDAR_NOT_FOUND,
                f"Calendar {name!r} does not exist in this namespace; create it or remove it "
                "from the task (nothing fires until then)",
            )
        if state.days is None:
            raise CalendarError(
                Reason.INVALID_CALENDAR,
                f"Calendar {name!r} is invalid: {state.problem} (nothing fires until it is fixed)",
            )
        found.append(state.days)
    return _union(tuple(found))


@functools.lru_cache(maxsize=1024)
def _union(sets: tuple[DaySet, ...]) -> DaySet:
    return DaySet.union(sets)


def day_rule(
    spec: ScheduledTaskSpec, calendars: Mapping[str, CalendarState] | None
) -> DayRule | None:
    """The days the task's Calendars exclude; None when it names none (or when
    `calendars` is None: the caller cannot know them, e.g. `kron next -f`)."""
    if calendars is None or not spec.calendar_names:
        return None
    exclude = _days(spec.exclude_calendars, calendars)
    only = _days(spec.restrict_to_calendars, calendars)
    return DayRule(exclude, only)


def timeline_for(
    spec: ScheduledTaskSpec, uid: str, calendars: Mapping[str, CalendarState] | None = None
) -> Timeline:
    """The task's fire times; raises ScheduleError / TimeZoneError / CalendarError.

    `calendars`: the task's Calendars by name (a missing name is an error); None
    leaves calendars out (callers that cannot read them say so).
    """
    return compile_timeline(
        schedules=spec.expressions,
        time_zone=spec.time_zone,
        start=math.ceil(spec.start_time.timestamp()) if spec.start_time else None,
        end=math.floor(spec.end_time.timestamp()) if spec.end_time else None,
        exclude=spec.exclude_schedules or (),
        jitter_seconds=spec.jitter_seconds,
        jitter_seed=uid,
        days=day_rule(spec, calendars),
    )
