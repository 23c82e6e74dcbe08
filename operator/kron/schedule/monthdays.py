"""The day forms whose days depend on the month: ``L``, ``L-n``, ``LW``, ``L-nW``, ``nW``
in day-of-month and ``d#n``, ``dL`` in day-of-week (Quartz / EventBridge meaning).

Which days of a month such a field allows depends only on two things: the month's
length (28-31) and the weekday of its 1st. That makes 4 x 7 = 28 month shapes, so a
pattern computes the matching days of each shape once, as a bitmask (bit ``d`` for
day ``d``), and every search looks the mask up instead of evaluating the forms: the
month-dependent forms cost one table lookup per month visited, like the plain ones.

Grammar of the items (case-insensitive, mixed freely with plain items in a list)::

    day-of-month: L | L-n (n 1-30) | LW | L-nW | nW (n 1-31)
    day-of-week:  d#n (d 0-7 or SUN-SAT, n 1-5) | dL

``nW`` is the weekday (Monday-Friday) nearest to day ``n`` without leaving the month:
a Saturday moves to the Friday before, unless that is in the previous month (then
the Monday after); a Sunday moves to the Monday after, unless that is in the next
month (then the Friday before). A form naming a day the month does not have (``31W``
in April, ``L-29`` in February, ``FRI#5`` in a month with four Fridays) does not fire
in that month.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from kron.schedule import fields
from kron.schedule.errors import ScheduleError, quote
from kron.schedule.months import month_length
from kron.schedule.wallclock import WallPattern

_Fail = Callable[[str], ScheduleError]

_ALL_DAYS = frozenset(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))
_LAST = re.compile(r"L(?:-([0-9]*))?(W?)")
_NEAREST = re.compile(r"([0-9]+)W")
MAX_LAST_OFFSET = 30
MAX_OCCURRENCE = 5
_SATURDAY, _SUNDAY = 6, 0


@dataclass(frozen=True, slots=True)
class DayRules:
    """The month-dependent items of the two day fields."""

    last: frozenset[int] = frozenset()  # L-n offsets; 0 is L itself
    last_weekday: frozenset[int] = frozenset()  # L-nW offsets; 0 is LW
    nearest_weekday: frozenset[int] = frozenset()  # nW: days 1-31
    nth: frozenset[tuple[int, int]] = frozenset()  # d#n: (weekday 0-6, n 1-5)
    last_of: frozenset[int] = frozenset()  # dL: weekdays 0-6

    def __bool__(self) -> bool:
        return bool(
            self.last or self.last_weekday or self.nearest_weekday or self.nth or self.last_of
        )

    def merged(self, other: DayRules) -> DayRules:
        return DayRules(
            self.last | other.last,
            self.last_weekday | other.last_weekday,
            self.nearest_weekday | other.nearest_weekday,
            self.nth | other.nth,
            self.last_of | other.last_of,
        )


NO_RULES = DayRules()


# -- parsing -----------------------------------------------------------------------------


def parse_day_field(
    text: str, spec: fields.FieldSpec, expression: str
) -> tuple[frozenset[int], DayRules]:
    """The plain values of a day field and its month-dependent items."""

    def fail(reason: str) -> ScheduleError:
        return ScheduleError(expression, spec.name, reason)

    is_dom = spec is fields.DAY_OF_MONTH
    plain: list[str] = []
    rules = NO_RULES
    for item in text.split(","):
        upper = item.upper()
        if is_dom and ("L" in upper or "W" in upper or "#" in upper):
            rules = rules.merged(_day_of_month_item(item, upper, fail))
        elif not is_dom and ("#" in upper or "L" in upper):
            rules = rules.merged(_day_of_week_item(item, upper, fail))
        else:
            plain.append(item)
    if not rules:
        return fields.expand_field(text, spec, expression), rules
    if plain == ["?"]:
        raise fail('"?" must stand alone in its field')
    values = fields.expand_field(",".join(plain), spec, expression) if plain else frozenset()
    return values, rules


def _number(text: str, *, low: int, high: int, what: str, item: str, fail: _Fail) -> int:
    """Digits in ``[low, high]`` (at most 9 of them, like every other cron number)."""
    if not fields.DIGITS.fullmatch(text):
        raise fail(f"{quote(item)}: invalid {what} {quote(text)}")
    if len(text) > fields.MAX_DIGITS or not low <= int(text) <= high:
        shown = text if len(text) <= fields.MAX_DIGITS else quote(text)
        raise fail(f"{quote(item)}: {what} {shown} out of range {low}-{high}")
    return int(text)


def _day_of_month_item(item: str, upper: str, fail: _Fail) -> DayRules:
    shown = quote(item)
    if "#" in upper:
        raise fail(f"{shown}: # (nth weekday) is allowed only in day-of-week (e.g. MON#2)")
    letter = "L (last day)" if "L" in upper else "W (nearest weekday)"
    if "/" in upper:
        raise fail(f"{shown}: {letter} cannot take a step")
    last = _LAST.fullmatch(upper)
    if last is not None:
        offset_text, weekday = last.groups()
        offset = 0
        if offset_text is not None:
            if not offset_text:
                raise fail(f"{shown}: missing offset after L- (e.g. L-3)")
            if fields.DIGITS.fullmatch(offset_text) and offset_text.strip("0") == "":
                raise fail(f"{shown}: offset 0 out of range 1-30 (write L for the last day)")
            offset = _number(
                offset_text, low=1, high=MAX_LAST_OFFSET, what="offset", item=item, fail=fail
            )
        if weekday:
            return DayRules(last_weekday=frozenset({offset}))
        return DayRules(last=frozenset({offset}))
    nearest = _NEAREST.fullmatch(upper)
    if nearest is not None:
        day = _number(nearest.group(1), low=1, high=31, what="day", item=item, fail=fail)
        return DayRules(nearest_weekday=frozenset({day}))
    if upper == "W":
        raise fail(f"{shown}: W needs a day before it (15W) or L (LW)")
    if upper.startswith("L-"):
        raise fail(f"{shown}: L-n needs an offset n of 1-30 days (e.g. L-3)")
    if "-" in upper:
        if "W" in upper:
            raise fail(f"{shown}: W (nearest weekday) takes one day, not a range")
        start, _, end = upper.partition("-")
        if end == "L" and fields.DIGITS.fullmatch(start):
            raise fail(f"{shown}: L cannot end a range ({start}-31 already stops at the last day)")
        raise fail(f"{shown}: L (last day) cannot be part of a range")
    if "L" in upper:
        raise fail(f"{shown}: invalid use of L (day-of-month takes L, L-n, LW or L-nW)")
    raise fail(f"{shown}: invalid use of W (day-of-month takes nW, LW or L-nW)")


def _day_of_week_item(item: str, upper: str, fail: _Fail) -> DayRules:
    shown = quote(item)
    letter = "# (nth weekday)" if "#" in upper else "L (last weekday)"
    if "/" in upper:
        raise fail(f"{shown}: {letter} cannot take a step")
    if "#" in upper:
        day_text, _, occurrence = item.partition("#")
        if not day_text:
            raise fail(f"{shown}: missing day before # (e.g. MON#2)")
        if not occurrence:
            raise fail(f"{shown}: missing occurrence after # (e.g. MON#2)")
        if "#" in occurrence or "L" in occurrence.upper():
            raise fail(f"{shown}: invalid use of # (day-of-week takes d#n, e.g. MON#2)")
        if day_text == "*" or "-" in day_text:
            raise fail(f"{shown}: # (nth weekday) takes one day, not a range")
        if "L" in day_text.upper():
            raise fail(f"{shown}: invalid use of # (day-of-week takes d#n, e.g. MON#2)")
        n = _number(occurrence, low=1, high=MAX_OCCURRENCE, what="occurrence", item=item, fail=fail)
        weekday = _weekday(day_text, fail)
        return DayRules(nth=frozenset({(weekday, n)}))
    if upper == "L":
        raise fail(
            f"{shown}: L needs a day before it (5L or FRIL is the last Friday;"
            " the last day of the month is L in day-of-month)"
        )
    if upper.endswith("L") and upper.count("L") == 1:
        day_text = upper[:-1]
        if day_text.isalpha() and day_text not in fields.DAY_OF_WEEK.names:
            raise fail(f"unknown day name {shown}")
        if day_text == "*" or "-" in day_text:
            raise fail(f"{shown}: L (last weekday) takes one day, not a range")
        return DayRules(last_of=frozenset({_weekday(day_text, fail)}))
    if upper.startswith("L"):
        raise fail(f"{shown}: write the day before L (5L or FRIL is the last Friday)")
    raise fail(f"{shown}: invalid use of L (day-of-week takes dL, e.g. 5L or FRIL)")


def _weekday(text: str, fail: _Fail) -> int:
    """0 = Sunday .. 6 = Saturday; 7 is Sunday too."""
    return fields.parse_value(text, fields.DAY_OF_WEEK, fail) % 7


# -- month shapes ------------------------------------------------------------------------


def _nearest_weekday(day: int, length: int, weekday: int) -> int:
    """The weekday nearest to ``day`` (whose weekday is ``weekday``) inside the month."""
    if weekday == _SATURDAY:
        return day - 1 if day > 1 else day + 2
    if weekday == _SUNDAY:
        return day + 1 if day < length else day - 2
    return day


def _day_of_month_mask(days: frozenset[int], rules: DayRules, length: int, first: int) -> int:
    mask = 0
    for day in days:
        if day <= length:
            mask |= 1 << day
    for offset in rules.last:
        if offset < length:
            mask |= 1 << (length - offset)
    candidates = [length - offset for offset in rules.last_weekday if offset < length]
    candidates += [day for day in rules.nearest_weekday if day <= length]
    for day in candidates:
        mask |= 1 << _nearest_weekday(day, length, (first + day - 1) % 7)
    return mask


def _day_of_week_mask(weekdays: frozenset[int], rules: DayRules, length: int, first: int) -> int:
    mask = 0
    for weekday in weekdays:
        for day in range(1 + (weekday - first) % 7, length + 1, 7):
            mask |= 1 << day
    for weekday, n in rules.nth:
        day = 1 + (weekday - first) % 7 + 7 * (n - 1)
        if day <= length:
            mask |= 1 << day
    for weekday in rules.last_of:
        day = 1 + (weekday - first) % 7
        mask |= 1 << (day + 7 * ((length - day) // 7))
    return mask


def month_masks(
    days: frozenset[int], weekdays: frozenset[int], rules: DayRules, days_or: bool
) -> tuple[int, ...]:
    """Matching days of each month shape, indexed ``(length - 28) * 7 + weekday of the 1st``.

    ``days_or`` is the Vixie rule: both day fields restricted, a day matching either
    matches; otherwise a day must match both (an unrestricted field allows every day).
    """
    masks = []
    for length in (28, 29, 30, 31):
        for first in range(7):
            by_date = _day_of_month_mask(days, rules, length, first)
            by_weekday = _day_of_week_mask(weekdays, rules, length, first)
            masks.append(by_date | by_weekday if days_or else by_date & by_weekday)
    return tuple(masks)


def possible_lengths(month: int) -> tuple[int, ...]:
    """Lengths a month can have (February: 28 or 29)."""
    return (28, 29) if month == 2 else (month_length(2001, month),)


def fires_in(masks: tuple[int, ...], months: frozenset[int]) -> bool:
    """Whether some selected month, in some year, has a matching day."""
    return any(
        masks[(length - 28) * 7 + first]
        for month in months
        for length in possible_lengths(month)
        for first in range(7)
    )


class MonthlyWallPattern(WallPattern):
    """A :class:`WallPattern` whose days come from the 28 month-shape masks.

    The time-of-day tables and every search are inherited; only the questions "does
    this day match", "how far to the next/previous matching day" and "can this month
    match at all" are answered from the masks.
    """

    __slots__ = ("_masks",)

    def __init__(
        self,
        *,
        seconds: frozenset[int],
        minutes: frozenset[int],
        hours: frozenset[int],
        days: frozenset[int],
        months: frozenset[int],
        weekdays: frozenset[int],
        days_or: bool,
        rules: DayRules,
    ) -> None:
        super().__init__(
            seconds=seconds,
            minutes=minutes,
            hours=hours,
            days=_ALL_DAYS,
            months=months,
            weekdays=_ALL_WEEKDAYS,
            days_or=False,
        )
        self._masks = month_masks(days, weekdays, rules, days_or)
        full = [(1 << (length + 1)) - 2 for length in (28, 29, 30, 31) for _ in range(7)]
        every_day = list(self._masks) == full
        self.matches_everything = self.matches_everything and every_day

    def _mask(self, date: dt.date, weekday: int) -> tuple[int, int]:
        """The matching days of ``date``'s month (``weekday`` is that of ``date``), and
        its length."""
        length = month_length(date.year, date.month)
        return self._masks[(length - 28) * 7 + (weekday - date.day + 1) % 7], length

    def _day_ok(self, date: dt.date, day: int) -> bool:
        if not self._month_ok[date.month]:
            return False
        return bool(self._mask(date, (day + 4) % 7)[0] >> date.day & 1)

    def _days_to_match(self, date: dt.date, weekday: int) -> int:
        mask, length = self._mask(date, weekday)
        rest = mask >> date.day
        if rest:
            return (rest & -rest).bit_length() - 1
        return length - date.day + 1

    def _days_since_match(self, date: dt.date, weekday: int) -> int:
        upto = self._mask(date, weekday)[0] & ((2 << date.day) - 1)
        return date.day - (upto.bit_length() - 1) if upto else date.day

    def _month_possible(self, date: dt.date) -> bool:
        # A month shape without a matching day (L-30 in February) is rare: the day
        # searches skip it as a month with no day left.
        return self._month_ok[date.month]
