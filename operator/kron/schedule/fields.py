"""The grammar of one cron field, and its expansion to the set of values it allows.

kron parses cron itself instead of relying on croniter's parser: croniter accepts
other things than kron's grammar (``H``, wrapping ranges like ``FRI-MON``, reads an
equal range such as ``5-5`` as the whole cycle, gives ``nW`` and ``L`` other
meanings), and its errors are not one-line messages that name the field. Here every
item of a field is checked against one small grammar::

    field := item ("," item)*
    item  := ("*" | value | value "-" value) ["/" step]      and "?" alone (day fields)
    value := digits | name                                   (names: months, weekdays)

``N/step`` means ``N-max/step``. The month-dependent day items (``L``, ``W``, ``#``)
are parsed by :mod:`kron.schedule.monthdays`, which hands the plain items here. A
mistake raises :class:`ScheduleError` naming the field and the problem.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kron.schedule.errors import ScheduleError, quote
from kron.schedule.months import DAY_ABBREVIATIONS, MONTH_ABBREVIATIONS

DIGITS = re.compile(r"[0-9]+")
_NAME = re.compile(r"[A-Za-z]+")
# At most this many digits are converted to an int (anything longer is out of range).
MAX_DIGITS = 9

_Fail = Callable[[str], ScheduleError]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Bounds and spelling rules of one cron field."""

    name: str
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)
    noun: str = "value"  # how an unknown name is described: "month name", "day name"
    allows_question: bool = False


SECOND = FieldSpec("second", 0, 59)
MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31, allows_question=True)
MONTH = FieldSpec(
    "month", 1, 12, names={n: i + 1 for i, n in enumerate(MONTH_ABBREVIATIONS)}, noun="month name"
)
# 7 is Sunday as well as 0; it is folded onto 0 after expansion.
DAY_OF_WEEK = FieldSpec(
    "day-of-week",
    0,
    7,
    names={n: i for i, n in enumerate(DAY_ABBREVIATIONS)},
    noun="day name",
    allows_question=True,
)


def is_wildcard(text: str) -> bool:
    """True when a field is unrestricted as written (``*`` or ``?``): the Vixie rule."""
    return text in ("*", "?")


def expand_field(text: str, spec: FieldSpec, expression: str) -> frozenset[int]:
    """The set of values ``text`` allows in field ``spec``; raises :class:`ScheduleError`."""

    def fail(reason: str) -> ScheduleError:
        return ScheduleError(expression, spec.name, reason)

    if text == "?":
        if not spec.allows_question:
            raise fail('"?" is allowed only in day-of-month and day-of-week')
        text = "*"
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise fail("empty list item")
        values.update(_expand_item(item, spec, fail))
    if spec is DAY_OF_WEEK and 7 in values:
        values.discard(7)
        values.add(0)
    return _shared(frozenset(values))


@functools.lru_cache(maxsize=4096)
def _shared(values: frozenset[int]) -> frozenset[int]:
    """One object for equal sets: expressions cached for parsing repeat most fields
    (``*`` above all), and a set of 60 values costs about 2 KiB."""
    return values


def _expand_item(item: str, spec: FieldSpec, fail: _Fail) -> range:
    base, slash, step_text = item.partition("/")
    unsupported = _unsupported_syntax(base)
    if unsupported:
        raise fail(unsupported)
    step = 1
    if slash:
        step = _parse_step(step_text, fail)
    if base == "*":
        return range(spec.low, spec.high + 1, step)
    if "?" in item:
        raise fail('"?" must stand alone in its field')
    start_text, dash, end_text = base.partition("-")
    if dash:
        if not start_text or not end_text:
            raise fail(f"invalid range {quote(base)}")
        start = parse_value(start_text, spec, fail)
        end = parse_value(end_text, spec, fail)
        if start > end:
            raise fail(f"range {start_text}-{end_text} is reversed (start must not exceed end)")
        return range(start, end + 1, step)
    start = parse_value(base, spec, fail)
    # A single value with a step runs to the end of the field: 5/15 = 5-max/15.
    return range(start, (spec.high if slash else start) + 1, step)


def _parse_step(text: str, fail: _Fail) -> int:
    if not text:
        raise fail("missing step after /")
    if not DIGITS.fullmatch(text):
        raise fail(f"invalid step {quote(text)}")
    if len(text) > MAX_DIGITS:
        raise fail(f"step {quote(text)} is too large")
    step = int(text)
    if step < 1:
        raise fail("step must be at least 1")
    return step


def parse_value(text: str, spec: FieldSpec, fail: _Fail) -> int:
    """One number or name of field ``spec``; ``fail`` builds the error to raise."""
    if DIGITS.fullmatch(text):
        if len(text) > MAX_DIGITS or not spec.low <= int(text) <= spec.high:
            shown = text if len(text) <= MAX_DIGITS else quote(text)
            raise fail(f"value {shown} out of range {spec.low}-{spec.high}")
        return int(text)
    if _NAME.fullmatch(text) and spec.names:
        upper = text.upper()
        if upper in spec.names:
            return spec.names[upper]
        unsupported = _unsupported_syntax(text)
        raise fail(unsupported or f"unknown {spec.noun} {quote(text)}")
    raise fail(_unsupported_syntax(text) or f"invalid value {quote(text)}")


_LAST = re.compile(r"[0-9]*L|L[0-9]*|LW", re.IGNORECASE)
_WEEKDAY = re.compile(r"[0-9]+W|W[0-9]+", re.IGNORECASE)
_HASHED = re.compile(r"H(\([0-9]+-[0-9]+\))?", re.IGNORECASE)


def _unsupported_syntax(text: str) -> str | None:
    """A precise reason for well-known extensions kron does not take here, else None.

    The day fields hand their ``L``/``W``/``#`` items to :mod:`kron.schedule.monthdays`
    first, so what reaches this is a form in a field that has no such meaning.
    """
    if "#" in text:
        return f"{quote(text)}: # (nth weekday) is allowed only in day-of-week (e.g. MON#2)"
    if _LAST.fullmatch(text):
        return (
            f"{quote(text)}: L is allowed only in day-of-month (L, L-n, LW)"
            " and day-of-week (5L: the last Friday)"
        )
    if _WEEKDAY.fullmatch(text):
        return f"{quote(text)}: W (nearest weekday) is allowed only in day-of-month (e.g. 15W)"
    if _HASHED.fullmatch(text):
        return f"{quote(text)}: H (hashed value) is not supported"
    return None
