"""The grammar of the month-dependent day forms: what parses to which rules, and the
one-line errors for their misuse (field named, problem named)."""

from __future__ import annotations

import pytest

from kron.schedule import CronExpression, ScheduleError, parse_expression
from kron.schedule.monthdays import MAX_LAST_OFFSET, MAX_OCCURRENCE


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("0 0 l * *", "last", {0}),
        ("0 0 L-3,L * *", "last", {0, 3}),
        ("0 0 lw,L-2W * *", "last_weekday", {0, 2}),
        ("0 0 1w,15W * *", "nearest_weekday", {1, 15}),
        ("0 0 * * tue#2,7#1,0#5", "nth", {(2, 2), (0, 1), (0, 5)}),
        ("0 0 * * FRIL,fril,5L,0l,7L", "last_of", {5, 0}),
    ],
)
def test_forms_parse_case_insensitively_with_names_and_seven_as_sunday(
    text: str, field: str, value: set[object]
) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, CronExpression)
    assert getattr(parsed.rules, field) == value


def test_plain_items_beside_the_forms_keep_their_meaning() -> None:
    parsed = parse_expression("0 0 1-3,L * MON-FRI,6L")
    assert isinstance(parsed, CronExpression)
    assert parsed.days == {1, 2, 3} and parsed.rules.last == {0}
    assert parsed.weekdays == {1, 2, 3, 4, 5} and parsed.rules.last_of == {6}
    assert parsed.days_or  # both day fields restricted: Vixie OR


def test_limits_are_those_of_quartz() -> None:
    assert (MAX_LAST_OFFSET, MAX_OCCURRENCE) == (30, 5)


ERRORS = [
    # (expression, field, message)
    (
        "0 0 L/2 * *",
        "day-of-month",
        'schedule "0 0 L/2 * *": day-of-month: "L/2": L (last day) cannot take a step',
    ),
    (
        "0 0 15W/2 * *",
        "day-of-month",
        'schedule "0 0 15W/2 * *": day-of-month: "15W/2": W (nearest weekday) cannot take a step',
    ),
    (
        "0 0 1W-5 * *",
        "day-of-month",
        'schedule "0 0 1W-5 * *": day-of-month: "1W-5": W (nearest weekday) takes one day,'
        " not a range",
    ),
    (
        "0 0 L-31 * *",
        "day-of-month",
        'schedule "0 0 L-31 * *": day-of-month: "L-31": offset 31 out of range 1-30',
    ),
    (
        "0 0 L-0 * *",
        "day-of-month",
        'schedule "0 0 L-0 * *": day-of-month: "L-0": offset 0 out of range 1-30'
        " (write L for the last day)",
    ),
    (
        "0 0 L- * *",
        "day-of-month",
        'schedule "0 0 L- * *": day-of-month: "L-": missing offset after L- (e.g. L-3)',
    ),
    (
        "0 0 L-x * *",
        "day-of-month",
        'schedule "0 0 L-x * *": day-of-month: "L-x": L-n needs an offset n of 1-30 days'
        " (e.g. L-3)",
    ),
    (
        "0 0 0W * *",
        "day-of-month",
        'schedule "0 0 0W * *": day-of-month: "0W": day 0 out of range 1-31',
    ),
    (
        "0 0 32W * *",
        "day-of-month",
        'schedule "0 0 32W * *": day-of-month: "32W": day 32 out of range 1-31',
    ),
    (
        "0 0 W * *",
        "day-of-month",
        'schedule "0 0 W * *": day-of-month: "W": W needs a day before it (15W) or L (LW)',
    ),
    (
        "0 0 15-L * *",
        "day-of-month",
        'schedule "0 0 15-L * *": day-of-month: "15-L": L cannot end a range'
        " (15-31 already stops at the last day)",
    ),
    (
        "0 0 15L * *",
        "day-of-month",
        'schedule "0 0 15L * *": day-of-month: "15L": invalid use of L'
        " (day-of-month takes L, L-n, LW or L-nW)",
    ),
    (
        "0 0 ?,L * *",
        "day-of-month",
        'schedule "0 0 ?,L * *": day-of-month: "?" must stand alone in its field',
    ),
    (
        "0 0 5#3 * *",
        "day-of-month",
        'schedule "0 0 5#3 * *": day-of-month: "5#3": # (nth weekday) is allowed only in'
        " day-of-week (e.g. MON#2)",
    ),
    (
        "0 0 * * 2#6",
        "day-of-week",
        'schedule "0 0 * * 2#6": day-of-week: "2#6": occurrence 6 out of range 1-5',
    ),
    (
        "0 0 * * 2#0",
        "day-of-week",
        'schedule "0 0 * * 2#0": day-of-week: "2#0": occurrence 0 out of range 1-5',
    ),
    ("0 0 * * 8#2", "day-of-week", 'schedule "0 0 * * 8#2": day-of-week: value 8 out of range 0-7'),
    (
        "0 0 * * MON-FRI#2",
        "day-of-week",
        'schedule "0 0 * * MON-FRI#2": day-of-week: "MON-FRI#2": # (nth weekday) takes one day,'
        " not a range",
    ),
    (
        "0 0 * * #2",
        "day-of-week",
        'schedule "0 0 * * #2": day-of-week: "#2": missing day before # (e.g. MON#2)',
    ),
    (
        "0 0 * * 1#",
        "day-of-week",
        'schedule "0 0 * * 1#": day-of-week: "1#": missing occurrence after # (e.g. MON#2)',
    ),
    (
        "0 0 * * 1#x",
        "day-of-week",
        'schedule "0 0 * * 1#x": day-of-week: "1#x": invalid occurrence "x"',
    ),
    (
        "0 0 * * 1#2/2",
        "day-of-week",
        'schedule "0 0 * * 1#2/2": day-of-week: "1#2/2": # (nth weekday) cannot take a step',
    ),
    (
        "0 0 * * L",
        "day-of-week",
        'schedule "0 0 * * L": day-of-week: "L": L needs a day before it (5L or FRIL is the'
        " last Friday; the last day of the month is L in day-of-month)",
    ),
    (
        "0 0 * * L5",
        "day-of-week",
        'schedule "0 0 * * L5": day-of-week: "L5": write the day before L'
        " (5L or FRIL is the last Friday)",
    ),
    (
        "0 0 * * MON-FRIL",
        "day-of-week",
        'schedule "0 0 * * MON-FRIL": day-of-week: "MON-FRIL": L (last weekday) takes one day,'
        " not a range",
    ),
    (
        "0 0 * * 5L/2",
        "day-of-week",
        'schedule "0 0 * * 5L/2": day-of-week: "5L/2": L (last weekday) cannot take a step',
    ),
    ("0 0 * * JUL", "day-of-week", 'schedule "0 0 * * JUL": day-of-week: unknown day name "JUL"'),
    (
        "0 0 * * 5W",
        "day-of-week",
        'schedule "0 0 * * 5W": day-of-week: "5W": W (nearest weekday) is allowed only in'
        " day-of-month (e.g. 15W)",
    ),
    (
        "L * * * *",
        "minute",
        'schedule "L * * * *": minute: "L": L is allowed only in day-of-month (L, L-n, LW)'
        " and day-of-week (5L: the last Friday)",
    ),
    (
        "0 0 1 L *",
        "month",
        'schedule "0 0 1 L *": month: "L": L is allowed only in day-of-month (L, L-n, LW)'
        " and day-of-week (5L: the last Friday)",
    ),
    (
        "0 1#2 * * *",
        "hour",
        'schedule "0 1#2 * * *": hour: "1#2": # (nth weekday) is allowed only in day-of-week'
        " (e.g. MON#2)",
    ),
    (
        "0 0 L-30 2 *",
        "day-of-month",
        'schedule "0 0 L-30 2 *": day-of-month: never fires: L-30 does not occur in month 2',
    ),
    (
        "0 0 30W,L-29 FEB *",
        "day-of-month",
        'schedule "0 0 30W,L-29 FEB *": day-of-month: never fires: 30W,L-29 does not occur'
        " in month 2",
    ),
]


@pytest.mark.parametrize(("text", "field", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_misused_form_is_rejected_with_one_line_naming_field_and_problem(
    text: str, field: str, message: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_expression(text)
    assert str(caught.value) == message
    assert caught.value.field == field
    assert len(message.splitlines()) == 1
