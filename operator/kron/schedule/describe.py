"""A schedule expression in words: "every 5 minutes", "at 02:30 on weekdays".

For people who read a schedule rather than parse it (`kron ui` shows both). The
words are built from the expression as kron parsed it (the value sets of its
fields), so they say what fires, not what the text seems to say: ``0,30 * * * *``
reads "every 30 minutes". Expressions whose shape has no short phrase get None,
and the caller shows the cron text alone: a wrong sentence is worse than none.
Items this module does not know (syntax added to the grammar later) also give None.

Pure: no clock, no zone (the caller names the zone the words are read in).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from kron.schedule.errors import ScheduleError
from kron.schedule.expression import (
    AtExpression,
    CronExpression,
    EveryExpression,
    parse_expression,
)
from kron.schedule.months import DAY_ABBREVIATIONS, DAY_NAMES, MONTH_ABBREVIATIONS, MONTH_NAMES

_DAY_NAMES: Final = DAY_NAMES
_MONTH_NAMES: Final = ("", *MONTH_NAMES)  # indexed by month number
_KNOWN_WORDS: Final = frozenset((*DAY_ABBREVIATIONS, *MONTH_ABBREVIATIONS))
# One item of kron's cron grammar: *, ?, a value or a range, optionally with a step.
_ITEM = re.compile(r"(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?")
_WORD = re.compile(r"[A-Za-z]+")
_MAX_TIMES: Final = 6
"""Most explicit times listed ("at 08:00, 12:00 and 18:00"); more have no short phrase."""
_MAX_LISTED: Final = 7


def describe_expression(text: str) -> str | None:
    """``text`` in words, or None when it has no short, exact phrase.

    Raises :class:`ScheduleError` for an invalid expression.
    """
    expression = parse_expression(text)
    if isinstance(expression, EveryExpression):
        return "every " + _duration(expression.seconds)
    if isinstance(expression, AtExpression):
        moment = datetime.fromtimestamp(expression.instant, UTC)
        return "once, at " + moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    if not _only_known_items(text):
        return None
    return _describe_cron(expression)


def describe_schedules(schedules: Sequence[str]) -> str | None:
    """Several expressions (their union) in words, joined by "and"; None if any has none."""
    parts: list[str] = []
    for text in schedules:
        try:
            words = describe_expression(text)
        except ScheduleError:
            return None
        if words is None:
            return None
        parts.append(words)
    return _join(parts, "; and ") if parts else None


# -- helpers ---------------------------------------------------------------------------


def _only_known_items(text: str) -> bool:
    body = text.strip()
    if body.startswith("@"):
        return True  # a macro: its cron form is kron's own
    for field in body.split():
        for item in field.split(","):
            if not _ITEM.fullmatch(item):
                return False
            if any(word.upper() not in _KNOWN_WORDS for word in _WORD.findall(item)):
                return False
    return True


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _duration(seconds: int) -> str:
    """``every`` + this: "5 minutes", "hour", "1 hour 30 minutes", "day"."""
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")):
        if seconds == size:
            return unit
        if seconds % size == 0 and (size > 1 or seconds < 120):
            return _plural(seconds // size, unit)
    parts = []
    rest = seconds
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")):
        count, rest = divmod(rest, size)
        if count:
            parts.append(_plural(count, unit))
    return " ".join(parts)


def _join(items: Sequence[str], last: str = " and ") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def _step(values: frozenset[int], low: int, high: int, *, whole: bool = True) -> int | None:
    """n when ``values`` is every n-th value of the field from its lowest (n >= 2).

    With ``whole``, n must also divide the field's cycle: ``*/7`` minutes fires at :56
    and then at :00, 4 minutes later, so it is not "every 7 minutes".
    """
    ordered = sorted(values)
    if len(ordered) < 2 or ordered[0] != low:
        return None
    step = ordered[1] - ordered[0]
    if ordered != list(range(low, high + 1, step)):
        return None
    if whole and (high - low + 1) % step:
        return None
    return step


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(hour: int, minute: int, second: int = 0) -> str:
    return f"{hour:02d}:{minute:02d}:{second:02d}" if second else f"{hour:02d}:{minute:02d}"


def _runs(values: frozenset[int]) -> list[tuple[int, int]]:
    """Contiguous runs of ``values``: {1,2,3,5} -> [(1, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


# -- time of day -----------------------------------------------------------------------


def _time_of_day(cron: CronExpression) -> str | None:
    seconds, minutes, hours = cron.seconds, cron.minutes, cron.hours
    all_seconds, all_minutes, all_hours = len(seconds) == 60, len(minutes) == 60, len(hours) == 24
    single_second = len(seconds) == 1
    second = min(seconds)

    # Explicit times: "at 02:30", "at 08:00, 12:00 and 18:00".
    if single_second and len(minutes) * len(hours) <= _MAX_TIMES and not all_hours:
        times = [_clock(h, m, second) for h in sorted(hours) for m in sorted(minutes)]
        return "at " + _join(times)

    # What repeats within the hours allowed, finest field first.
    if all_seconds:
        unit = "every second"
    elif (step := _step(seconds, 0, 59)) is not None:
        unit = f"every {step} seconds"
    elif not single_second:
        return None
    elif all_minutes:
        unit = "every minute" + (f" at second {second}" if second else "")
    elif (step := _step(minutes, 0, 59)) is not None:
        unit = f"every {step} minutes" + (f" at second {second}" if second else "")
    elif all_hours and (step := _step(minutes, 0, 59, whole=False)) is not None:
        return f"every {step} minutes from :00 to :{max(minutes):02d} of each hour"
    elif all_hours or _step(hours, 0, 23) is not None:
        if second:
            return None
        listed = sorted(minutes)
        if len(listed) > _MAX_LISTED:
            return None
        step_hours = _step(hours, 0, 23)
        every = "every hour" if all_hours else f"every {step_hours} hours"
        if listed == [0]:
            return every
        which = "minute" if len(listed) == 1 else "minutes"
        return f"{every} at {which} {_join([str(m) for m in listed])}"
    elif len(minutes) == 1 and len(_runs(hours)) <= 3:
        # "every hour from 09:00 to 17:00": one minute of each hour in a few windows.
        minute = min(minutes)
        windows = [
            f"from {_clock(first, minute, second)} to {_clock(last, minute, second)}"
            for first, last in _runs(hours)
        ]
        return "every hour " + _join(windows)
    else:
        return None

    # The repeating unit applies to minutes (and hours) allowed as a window.
    sub_minute = not single_second
    if sub_minute and not all_minutes:
        if all_hours:
            return None  # "every 10 seconds during minutes 0-4 of each hour": too odd
        if len(hours) == 1 and len(minutes) == 1:
            hour, minute = min(hours), min(minutes)
            return f"{unit} from {_clock(hour, minute)} to {_clock(hour, minute, max(seconds))}"
        return None
    if all_hours:
        return unit
    last_minute = max(minutes)
    windows = []
    for first, last in _runs(hours):
        start = _clock(first, min(minutes))
        end = _clock(last, last_minute, max(seconds) if sub_minute else second)
        windows.append(f"from {start} to {end}")
    if len(windows) > 3:
        return None
    return f"{unit} " + _join(windows)


# -- days ------------------------------------------------------------------------------


def _weekdays(days: frozenset[int]) -> str:
    if days == frozenset(range(1, 6)):
        return "on weekdays"
    if days == frozenset({0, 6}):
        return "on weekends"
    # Monday first, as people read a week.
    ordered = sorted(days, key=lambda d: (d + 6) % 7)
    runs = _runs(frozenset((d + 6) % 7 for d in days))
    if len(runs) == 1 and len(ordered) >= 3:
        first, last = runs[0]
        return f"from {_DAY_NAMES[(first + 1) % 7]} to {_DAY_NAMES[(last + 1) % 7]}"
    return "on " + _join([_DAY_NAMES[d] + "s" for d in ordered])


def _month_days(days: frozenset[int]) -> str | None:
    runs = _runs(days)
    if len(days) <= _MAX_LISTED and all(a == b for a, b in runs):
        return "on the " + _join([_ordinal(d) for d in sorted(days)])
    if len(runs) == 1:
        first, last = runs[0]
        return f"on days {first} to {last}"
    return None


def _months(months: frozenset[int]) -> str:
    runs = _runs(months)
    if len(runs) == 1 and len(months) >= 3:
        first, last = runs[0]
        return f"from {_MONTH_NAMES[first]} to {_MONTH_NAMES[last]}"
    return "in " + _join([_MONTH_NAMES[m] for m in sorted(months)])


def _days(cron: CronExpression) -> str | None:
    all_days = len(cron.days) == 31
    all_weekdays = len(cron.weekdays) == 7
    all_months = len(cron.months) == 12
    if not all_months and len(cron.months) == 1 and len(cron.days) == 1 and all_weekdays:
        return f"on {min(cron.days)} {_MONTH_NAMES[min(cron.months)]}"
    parts: list[str] = []
    if cron.days_or:
        month_days = _month_days(cron.days)
        if month_days is None:
            return None
        parts.append(f"{month_days} and {_weekdays(cron.weekdays)}")
    elif not all_days:
        month_days = _month_days(cron.days)
        if month_days is None:
            return None
        parts.append(month_days + (" of every month" if all_months else ""))
    elif not all_weekdays:
        parts.append(_weekdays(cron.weekdays))
    if not all_months:
        parts.append(_months(cron.months))
    return " ".join(parts)


def _describe_cron(cron: CronExpression) -> str | None:
    time = _time_of_day(cron)
    if time is None:
        return None
    days = _days(cron)
    if days is None:
        return None
    if not days:
        return f"{time} every day" if time.startswith("at ") else time
    return f"{time} {days}"
