"""The one table of months and weekdays, and the modules that read it."""

from __future__ import annotations

import calendar

from kron.schedule import describe, fields
from kron.schedule.months import (
    DAY_ABBREVIATIONS,
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    longest_month,
    month_length,
)


def test_month_lengths_agree_with_the_standard_library() -> None:
    for year in (*range(1800, 2101), 2400, 9998):
        for month in range(1, 13):
            assert month_length(year, month) == calendar.monthrange(year, month)[1]
    assert [longest_month(m) for m in range(1, 13)] == [
        max(calendar.monthrange(y, m)[1] for y in (2023, 2024)) for m in range(1, 13)
    ]


def test_the_grammar_and_the_descriptions_read_the_same_names() -> None:
    assert fields.MONTH.names == {name: i + 1 for i, name in enumerate(MONTH_ABBREVIATIONS)}
    assert fields.DAY_OF_WEEK.names == {name: i for i, name in enumerate(DAY_ABBREVIATIONS)}
    assert MONTH_ABBREVIATIONS[0] == "JAN" and DAY_ABBREVIATIONS[0] == "SUN"
    assert MONTH_NAMES[2] == "March"
    assert describe.describe_expression("0 9 1 MAR *") == "at 09:00 on 1 March"
    assert describe.describe_expression("0 9 * * SAT") == "at 09:00 on Saturdays"
