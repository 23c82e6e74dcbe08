"""The Calendar resource (kron.dev/v1alpha1): a namespaced list of days.

A task names Calendars of its own namespace in ``spec.excludeCalendars`` (ticks on
those days do not run: holidays, freeze windows) or ``spec.restrictToCalendars``
(ticks run only on those days: trading days, month-end close). A Calendar holds
single dates (``2026-12-25``), inclusive ranges (``date`` with ``through``) and
yearly dates (``--12-25``, ISO 8601's form without a year), each with a description.

Everything in it is tenant input: entries, descriptions and names are bounded by the
schema, and every date is checked twice, by CEL at ``kubectl apply`` and by the
models below (which the operator uses; a calendar the models refuse makes the tasks
that use it ``Ready=False reason=InvalidCalendar``, and only those).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from kron.api import cel
from kron.api.base import ApiModel, SpecModel, StatusModel
from kron.api.constants import (
    MAX_CALENDAR_DESCRIPTION,
    MAX_CALENDAR_ENTRIES,
    MAX_CALENDAR_NAME_LENGTH,
)
from kron.dns1123 import SUBDOMAIN_PATTERN

_MONTH_DAY = "(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = f"^([0-9]{{4}}-{_MONTH_DAY}|--{_MONTH_DAY})$"
"""A full date (YYYY-MM-DD) or a yearly one (--MM-DD)."""
FULL_DATE_PATTERN = f"^[0-9]{{4}}-{_MONTH_DAY}$"
NAME_PATTERN = f"^{SUBDOMAIN_PATTERN}$"
"""A Kubernetes object name (DNS-1123 subdomain), as Calendars are named."""

DAY_EXISTS = "the day does not exist in that month (30 or 31 February, 31 April, ...)"
LEAP_DAY = "29 February exists only in leap years"
RANGE_RULE = "through needs a full date in date (YYYY-MM-DD, not --MM-DD) and must not be before it"

_DATE_RULES = cel.rules(
    cel.Rule("!self.matches('-(02-3[01]|(04|06|09|11)-31)$')", DAY_EXISTS),
    cel.Rule(
        "!self.matches('^[0-9]{4}-02-29$') || "
        "(int(self.substring(0, 4)) % 4 == 0 && (int(self.substring(0, 4)) % 100 != 0 || "
        "int(self.substring(0, 4)) % 400 == 0))",
        LEAP_DAY,
    ),
)

CalendarName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CALENDAR_NAME_LENGTH, pattern=NAME_PATTERN),
]
"""The name of a Calendar in the task's own namespace."""


def parse_day(text: str) -> tuple[int | None, int, int]:
    """``(year, month, day)`` of ``YYYY-MM-DD`` (year None for ``--MM-DD``); ValueError if
    that day does not exist (yearly 29 February does: it occurs in leap years)."""
    if text.startswith("--"):
        month, day = int(text[2:4]), int(text[5:7])
        dt.date(2000, month, day)  # a leap year: every month-day that ever occurs
        return None, month, day
    date = dt.date.fromisoformat(text)
    return date.year, date.month, date.day


class CalendarEntry(SpecModel):
    """One day, one range of days, or one day of every year."""

    model_config = ConfigDict(
        json_schema_extra=cel.rules(
            cel.Rule(
                f"!has(self.through) || (self.date.matches('{FULL_DATE_PATTERN}') && "
                "self.through >= self.date)",
                RANGE_RULE,
                field_path=".through",
            )
        )
    )

    date: str = Field(
        min_length=7,
        max_length=10,
        pattern=DATE_PATTERN,
        description="A date (2026-12-25), or a day of every year in ISO 8601's form without "
        "a year (--12-25). With through, the first day of a range.",
        json_schema_extra=_DATE_RULES,
    )
    through: str | None = Field(
        None,
        min_length=10,
        max_length=10,
        pattern=FULL_DATE_PATTERN,
        description="Last day of the range that starts at date (inclusive, YYYY-MM-DD).",
        json_schema_extra=_DATE_RULES,
    )
    description: str = Field(
        min_length=1,
        max_length=MAX_CALENDAR_DESCRIPTION,
        description="What the day is (Christmas Day, year-end freeze).",
    )

    @model_validator(mode="after")
    def _check_days(self) -> Self:
        try:
            start = parse_day(self.date)
        except ValueError as err:
            raise ValueError(f"date {self.date}: {err}") from None
        if self.through is not None:
            if start[0] is None:
                raise ValueError(RANGE_RULE)
            try:
                parse_day(self.through)
            except ValueError as err:
                raise ValueError(f"through {self.through}: {err}") from None
            if self.through < self.date:
                raise ValueError(f"{RANGE_RULE} ({self.through} < {self.date})")
        return self


class CalendarSpec(SpecModel):
    """The days of a Calendar."""

    description: str | None = Field(
        None,
        max_length=MAX_CALENDAR_DESCRIPTION,
        description="What the calendar is (Public holidays of Bavaria, 2026-2030).",
    )
    entries: list[CalendarEntry] = Field(
        default_factory=list,
        max_length=MAX_CALENDAR_ENTRIES,
        description=f"The days (at most {MAX_CALENDAR_ENTRIES} entries). A day is in the "
        "calendar when any entry covers it.",
    )


class CalendarMetadata(StatusModel):
    """The parts of a Calendar's metadata kron uses."""

    name: str | None = Field(None, description="Calendar name; tasks refer to it.")
    namespace: str | None = Field(None, description="Namespace of the calendar and its tasks.")


class Calendar(ApiModel):
    """Days that ScheduledTasks of its namespace skip or are limited to (kron.dev/v1alpha1)."""

    model_config = ConfigDict(extra="ignore")

    api_version: Literal["kron.dev/v1alpha1"] = Field(
        "kron.dev/v1alpha1", description="kron.dev/v1alpha1."
    )
    kind: Literal["Calendar"] = Field("Calendar", description="Calendar.")
    metadata: CalendarMetadata = Field(
        default_factory=CalendarMetadata, description="Object metadata."
    )
    spec: CalendarSpec = Field(description="The days.")

    @classmethod
    def from_api(cls, obj: Any) -> Self:
        """Parse an object as read from the API server (or a manifest file)."""
        return cls.model_validate(obj)
