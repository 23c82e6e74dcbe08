"""How often one schedule expression fires, as the admission policy judges it.

The API server evaluates the policy's CEL (``kron.api.policy.schedules``); this module
is the same judgement in Python, written from the same patterns and rules. tests/unit
holds it to the fire times ``kron.schedule`` computes, and tests/chart holds the CEL to
it on a real API server: it is the specification of the policy's verdicts.

The estimate, for one expression (a task's expressions are judged one by one):

- ``@every D``: D in whole seconds (rounded down). Only durations of at most four parts,
  each of at most five digits before the decimal point (leading zeros aside), are read
  (``@every 1h30m``, ``@every 90s``); anything else is *unknown*.
- ``@hourly``: 3600 s; every other macro: 86400 s. ``@at``: fires once, no interval.
- Cron (5 fields are read as 6 with a seconds field ``0``): the finest of the second,
  minute and hour fields that holds more than one value decides. The estimate is the
  least distance between two neighbouring values of that field, in its unit; the
  distance across the boundary (from the last value to the first, 59 -> 0 or 23 -> 0)
  counts too when the next fire can be in the next minute, hour or day: for the hour
  field always; for the minute field when the hour field holds two neighbouring hours
  (23 and 0 count); for the seconds field when the minute field holds two neighbouring
  minutes (59 and 0 count if the hours are neighbours too). All three fields with one
  value: 86400 s. A field is read only if it is a comma list of at most
  ``MAX_FIELD_ITEMS`` items ``*``, ``n`` or ``a-b`` (values of at most two digits
  besides leading zeros), each with an optional ``/step`` (at most four digits);
  otherwise the expression is *unknown*.

With unrestricted day fields in a zone without daylight saving time, the estimate is
exactly the least distance between two fire times. Otherwise:

- Day fields are not read. Restricting days only removes fires, so the estimate can
  be smaller than the truth, never larger (``0 0,23 * * MON``: 1 h, truly 23 h).
- These make fires closer than the estimate, and the policy does not see them: the
  union of a task's expressions (``0 * * * *`` and ``1 * * * *``: 3600 s each, 60 s
  together; cap it with maxSchedules); daylight saving time (a tick skipped by a
  spring-forward gap fires at the end of the gap, once a year); jitter (each run
  starts up to jitterSeconds late, so two runs can start closer, at the same rate).
"""

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

MAX_FIELD_ITEMS: Final = 32
"""Most comma items per second/minute/hour field the policy reads; bounds its CEL cost."""

# Patterns shared with the CEL. They use only syntax that RE2 and Python's re read alike.
_VALUE = "0*[0-9]{1,2}"
_ITEM = rf"([*]|{_VALUE}(-{_VALUE})?)(/0*[1-9][0-9]{{0,3}})?"
FIELD_PATTERN: Final = rf"^{_ITEM}(,{_ITEM}){{0,{MAX_FIELD_ITEMS - 1}}}$"
"""A second, minute or hour field the policy can read."""

_DURATION_PART = r"(0*[0-9]{1,5}([.][0-9]*)?|[.][0-9]+)[hms]"
DURATION_PATTERN: Final = rf"^({_DURATION_PART}){{1,4}}$"
"""An ``@every`` duration the policy reads: at most 4 parts, so at most about 45 years
(``duration()`` in CEL overflows past 292 years and would fail the request)."""

ZERO_PATTERN: Final = "(^|,)([*]|0+([-/,]|$))"
"""A cron field (of the CRD's grammar) that holds the value 0: an item starting at 0."""

AT_ON_THE_HOUR_PATTERN: Final = "t[0-9]{2}:00:00([.]0*)?(z|[+-])"
"""An ``@at`` instant (lower-cased) written at minute 0, second 0."""

ONE_DAY: Final = 86_400
ONE_HOUR: Final = 3_600
# (unit in seconds, number of values) of the second, minute and hour fields.
_UNITS: Final = ((1, 60), (60, 60), (3600, 24))
_UNIT_SECONDS: Final = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1)}


@dataclass(frozen=True)
class Cadence:
    """What the policy concludes about one expression.

    ``interval``: the estimated least seconds between two fires; ``None`` when the
    expression fires once (``@at``) or is unknown (``known`` False: the policy cannot read
    it, and refuses it wherever a minimum interval applies). ``on_the_hour``: it fires
    at minute 0 and second 0 of some hour.
    """

    interval: int | None
    known: bool
    on_the_hour: bool


@dataclass(frozen=True)
class _Spacing:
    """The values of a field: how many, the least gap inside, and the gap across."""

    count: int
    inner: int
    wrap: int

    @property
    def adjacent(self) -> bool:
        """Two neighbouring values (the wrap 23 -> 0, 59 -> 0 included)."""
        return self.count > 1 and (self.inner == 1 or self.wrap == 1)


def _words(text: str) -> str:
    # CEL's trim() removes Unicode white space; the CRD's grammar allows only ASCII
    # white space around an expression, so str.strip() (all white space) agrees.
    return text.strip().lower()


def _cron_fields(word: str) -> list[str]:
    fields = [field for field in word.replace("\t", " ").split(" ") if field]
    return ["0", *fields] if len(fields) == 5 else fields


def _items(field: str, top: int) -> list[tuple[int, int, int]]:
    """(start, end, step) of each item, as the CEL parses them."""
    items = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            start, end = 0, top
        elif "-" in base:
            low, high = base.split("-")
            start, end = int(low), int(high)
        else:
            start = int(base)
            end = top if step else start
        items.append((start, end, int(step) if step else 1))
    return items


def _spacing(values: list[int], size: int) -> _Spacing:
    inner = min((b - a for a, b in itertools.pairwise(values)), default=size)
    wrap = size - values[-1] + values[0] if values else size
    return _Spacing(len(values), inner, wrap)


def field_values(field: str, size: int) -> list[int]:
    """The sorted values a readable field holds (``size``: 60 or 24)."""
    items = _items(field, size - 1)
    return [x for x in range(size) if any(a <= x <= b and (x - a) % n == 0 for a, b, n in items)]


def _cron_interval(fields: list[str]) -> int:
    second, minute, hour = (
        _spacing(field_values(field, size), size)
        for field, (_, size) in zip(fields, _UNITS, strict=False)
    )
    minute_adjacent = minute.count > 1 and (
        minute.inner == 1 or (minute.wrap == 1 and hour.adjacent)
    )
    if second.count > 1:
        return min(second.inner, second.wrap) if minute_adjacent else second.inner
    if minute.count > 1:
        return 60 * (min(minute.inner, minute.wrap) if hour.adjacent else minute.inner)
    if hour.count > 1:
        return ONE_HOUR * min(hour.inner, hour.wrap)
    return ONE_DAY


def every_seconds(body: str) -> int | None:
    """Whole seconds of an ``@every`` duration the policy reads, else None."""
    if re.search(DURATION_PATTERN, body) is None:
        return None
    total = sum(
        Decimal(number) * _UNIT_SECONDS[unit]
        for number, unit in re.findall(r"([0-9.]+)([hms])", body)
    )
    return int(total)


def cadence(text: str) -> Cadence:
    """The policy's judgement of one expression that passed the CRD's schema."""
    word = _words(text)
    if word.startswith("@every"):
        seconds = every_seconds(word[len("@every") :].strip())
        if seconds is None:
            return Cadence(None, known=False, on_the_hour=True)
        on_the_hour = (
            seconds < 1
            or seconds % ONE_HOUR == 0
            or any((ONE_HOUR * hours) % seconds == 0 for hours in range(1, 25))
        )
        return Cadence(seconds, known=True, on_the_hour=on_the_hour)
    if word.startswith("@at"):
        on_the_hour = re.search(AT_ON_THE_HOUR_PATTERN, word) is not None
        return Cadence(None, known=True, on_the_hour=on_the_hour)
    if word.startswith("@"):
        return Cadence(ONE_HOUR if word == "@hourly" else ONE_DAY, known=True, on_the_hour=True)
    fields = _cron_fields(word)
    on_the_hour = all(re.search(ZERO_PATTERN, field) is not None for field in fields[:2])
    known = len(fields) == 6 and all(re.search(FIELD_PATTERN, f) for f in fields[:3])
    if not known:
        return Cadence(None, known=False, on_the_hour=on_the_hour)
    return Cadence(_cron_interval(fields), known=True, on_the_hour=on_the_hour)
