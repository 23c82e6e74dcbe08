"""One schedule expression: parsing, validation and its parsed form.

Accepted forms (see the README's "Schedules" section):

* 5-field cron ``minute hour day-of-month month day-of-week``, or 6 fields with a
  leading ``second``; the day fields also take the month-dependent forms of
  :mod:`kron.schedule.monthdays` (``L``, ``L-n``, ``LW``, ``nW``, ``d#n``, ``dL``);
* the macros ``@yearly @annually @monthly @weekly @daily @midnight @hourly``;
* ``@every <duration>`` and ``@at <RFC 3339 instant>``.

Leading and trailing whitespace is ignored; fields are separated by one or more
spaces or tabs. Macros and names are case-insensitive. Parsing is cached per text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from kron.schedule import fields, monthdays
from kron.schedule.errors import ScheduleError, quote
from kron.schedule.instants import AT_FIELD, EVERY_FIELD, parse_at, parse_every
from kron.schedule.monthdays import NO_RULES, DayRules, MonthlyWallPattern
from kron.schedule.months import longest_month
from kron.schedule.wallclock import WallPattern

_MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SEPARATOR = re.compile(r"[ \t]+")
_OUTER_WHITESPACE: Final = " \t\r\n\f\v"
_ALL_SECONDS: Final = frozenset(range(60))


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A cron expression (or macro) as the sets of values its fields allow.

    ``days`` and ``weekdays`` hold the plain values of the day fields; ``rules`` the
    month-dependent items (``L``, ``W``, ``#``), which may be all a day field has.
    """

    kind: ClassVar[Literal["cron"]] = "cron"
    text: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday
    days_or: bool  # Vixie: both day fields restricted, a day matching either fires
    has_seconds: bool  # written with 6 fields
    rules: DayRules = NO_RULES

    @property
    def all_hours(self) -> bool:
        """The hour field allows every hour: repeated (fall-back) times fire twice."""
        return len(self.hours) == 24

    def wall_pattern(self, *, any_second: bool = False) -> WallPattern:
        """The matcher of this expression's wall times.

        ``any_second`` widens a 5-field expression to every second of its minutes
        (how exclusions match).
        """
        seconds = _ALL_SECONDS if any_second and not self.has_seconds else self.seconds
        if self.rules:
            return MonthlyWallPattern(
                seconds=seconds,
                minutes=self.minutes,
                hours=self.hours,
                days=self.days,
                months=self.months,
                weekdays=self.weekdays,
                days_or=self.days_or,
                rules=self.rules,
            )
        return WallPattern(
            seconds=seconds,
            minutes=self.minutes,
            hours=self.hours,
            days=self.days,
            months=self.months,
            weekdays=self.weekdays,
            days_or=self.days_or,
        )


@dataclass(frozen=True, slots=True)
class EveryExpression:
    """``@every <duration>``: a tick at every multiple of ``seconds`` since the epoch."""

    kind: ClassVar[Literal["every"]] = "every"
    text: str
    seconds: int


@dataclass(frozen=True, slots=True)
class AtExpression:
    """``@at <instant>``: one tick."""

    kind: ClassVar[Literal["at"]] = "at"
    text: str
    instant: int


Expression = CronExpression | EveryExpression | AtExpression


@functools.lru_cache(maxsize=8192)
def parse_expression(text: str) -> Expression:
    """Parse and validate one schedule expression; raises :class:`ScheduleError`."""
    body = text.strip(_OUTER_WHITESPACE)
    if not body:
        raise ScheduleError(text, None, "empty expression")
    if body.startswith("@"):
        return _parse_macro(text, body)
    return _parse_cron(text, _SEPARATOR.split(body))


def _parse_macro(text: str, body: str) -> Expression:
    keyword, _, argument = _split_once(body)
    keyword = keyword.lower()
    if keyword in ("@every", "@at"):
        field = EVERY_FIELD if keyword == "@every" else AT_FIELD
        if _SEPARATOR.search(argument):
            raise ScheduleError(text, field, f"expected one value, got {quote(argument)}")
        if keyword == "@every":
            return EveryExpression(text, parse_every(argument, text))
        return AtExpression(text, parse_at(argument, text))
    if keyword in _MACROS:
        if argument:
            raise ScheduleError(text, None, f"macro {keyword} takes no arguments")
        return _parse_cron(text, _MACROS[keyword].split())
    raise ScheduleError(
        text,
        None,
        f"unknown macro {quote(keyword)} (expected one of {', '.join(_MACROS)},"
        " @every <duration>, @at <instant>)",
    )


def _split_once(body: str) -> tuple[str, str, str]:
    parts = _SEPARATOR.split(body, maxsplit=1)
    return (parts[0], " ", parts[1]) if len(parts) == 2 else (parts[0], "", "")


def _parse_cron(text: str, parts: list[str]) -> CronExpression:
    if len(parts) not in (5, 6):
        raise ScheduleError(
            text,
            None,
            "expected 5 fields (minute hour day-of-month month day-of-week)"
            f" or 6 (a leading second), got {len(parts)}",
        )
    has_seconds = len(parts) == 6
    second_text = parts.pop(0) if has_seconds else "0"
    minute, hour, dom, month, dow = parts
    seconds = fields.expand_field(second_text, fields.SECOND, text)
    minutes = fields.expand_field(minute, fields.MINUTE, text)
    hours = fields.expand_field(hour, fields.HOUR, text)
    days, dom_rules = monthdays.parse_day_field(dom, fields.DAY_OF_MONTH, text)
    months = fields.expand_field(month, fields.MONTH, text)
    weekdays, dow_rules = monthdays.parse_day_field(dow, fields.DAY_OF_WEEK, text)
    rules = dom_rules.merged(dow_rules)
    dom_restricted = not fields.is_wildcard(dom)
    dow_restricted = not fields.is_wildcard(dow)
    days_or = dom_restricted and dow_restricted
    if rules:
        masks = monthdays.month_masks(days, weekdays, rules, days_or)
        if not monthdays.fires_in(masks, months):
            raise ScheduleError(
                text,
                fields.DAY_OF_MONTH.name,
                f"never fires: {dom} does not occur in month {_listed(months)}",
            )
    elif dom_restricted and not dow_restricted:
        _check_days_exist(text, days, months)
    return CronExpression(
        text=text,
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=weekdays,
        days_or=days_or,
        has_seconds=has_seconds,
        rules=rules,
    )


def _check_days_exist(text: str, days: frozenset[int], months: frozenset[int]) -> None:
    """Reject a day-of-month that no selected month has (``0 0 30 2 *``)."""
    if min(days) <= max(longest_month(month) for month in months):
        return
    raise ScheduleError(
        text,
        fields.DAY_OF_MONTH.name,
        f"never fires: day {_listed(days)} does not occur in month {_listed(months)}",
    )


def _listed(values: frozenset[int]) -> str:
    return ",".join(str(value) for value in sorted(values))
