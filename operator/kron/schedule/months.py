"""The Gregorian calendar's months and weekdays, in one place.

Month lengths, the longest a month can be, and the English names and cron
abbreviations of months and weekdays: the grammar (names in fields), the matcher
(lengths), validation (a day a month can have) and `describe` (names in prose) all
read them from here. Pure tables and arithmetic (proleptic Gregorian).
"""

from __future__ import annotations

from typing import Final

MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""Month ``m`` (1-12) is ``MONTH_NAMES[m - 1]``."""
DAY_NAMES: Final = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
"""Cron's weekday numbers: ``DAY_NAMES[0]`` is Sunday."""
MONTH_ABBREVIATIONS: Final = tuple(name[:3].upper() for name in MONTH_NAMES)
"""``JAN`` ... ``DEC``, as cron spells them."""
DAY_ABBREVIATIONS: Final = tuple(name[:3].upper() for name in DAY_NAMES)
"""``SUN`` ... ``SAT``, as cron spells them."""

_COMMON_LENGTHS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_length(year: int, month: int) -> int:
    """Days in ``month`` of ``year``."""
    if month == 2:
        return 29 if is_leap(year) else 28
    return _COMMON_LENGTHS[month]


def longest_month(month: int) -> int:
    """The most days ``month`` has in any year (29 for February)."""
    return 29 if month == 2 else _COMMON_LENGTHS[month]
