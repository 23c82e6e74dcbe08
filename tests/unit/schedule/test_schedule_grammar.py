"""The expression grammar: what parses into which field sets, and one-line errors."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_support import instant

from kron.schedule import (
    AtExpression,
    CronExpression,
    EveryExpression,
    ScheduleError,
    TimeZoneError,
    parse_expression,
)

ALL_DAYS = frozenset(range(1, 32))
ALL_WEEKDAYS = frozenset(range(7))
ALL_MONTHS = frozenset(range(1, 13))


def cron(text: str) -> CronExpression:
    parsed = parse_expression(text)
    assert isinstance(parsed, CronExpression)
    return parsed


@pytest.mark.parametrize(
    ("text", "minutes", "hours"),
    [
        ("* * * * *", frozenset(range(60)), frozenset(range(24))),
        ("*/15 * * * *", {0, 15, 30, 45}, frozenset(range(24))),
        ("5/15 * * * *", {5, 20, 35, 50}, frozenset(range(24))),
        ("0 9-17/4 * * *", {0}, {9, 13, 17}),
        ("1,2,10-12 0 * * *", {1, 2, 10, 11, 12}, {0}),
        ("59 23/1 * * *", {59}, {23}),
        ("0 */100 * * *", {0}, {0}),
        ("07 08 * * *", {7}, {8}),
    ],
)
def test_minute_and_hour_fields_expand_to_the_values_they_allow(
    text: str, minutes: set[int], hours: set[int]
) -> None:
    parsed = cron(text)
    assert parsed.minutes == minutes
    assert parsed.hours == hours
    assert parsed.seconds == {0}
    assert not parsed.has_seconds


def test_six_fields_put_the_seconds_first() -> None:
    parsed = cron("*/10 30 * * * *")
    assert parsed.seconds == {0, 10, 20, 30, 40, 50}
    assert parsed.minutes == {30}
    assert parsed.has_seconds


@pytest.mark.parametrize(
    ("text", "weekdays"),
    [
        ("0 0 * * 0", {0}),
        ("0 0 * * 7", {0}),
        ("0 0 * * 5-7", {5, 6, 0}),
        ("0 0 * * MON-FRI", {1, 2, 3, 4, 5}),
        ("0 0 * * sun,Sat", {0, 6}),
        ("0 0 * * 1-7/2", {1, 3, 5, 0}),
        ("0 0 * * */2", {0, 2, 4, 6}),
    ],
)
def test_day_of_week_takes_names_and_seven_as_sunday(text: str, weekdays: set[int]) -> None:
    assert cron(text).weekdays == weekdays


def test_month_names_are_case_insensitive() -> None:
    assert cron("0 0 1 jan,Feb,MAR *").months == {1, 2, 3}
    assert cron("0 0 1 JAN-DEC/3 *").months == {1, 4, 7, 10}


@pytest.mark.parametrize(
    ("text", "days_or"),
    [
        ("0 0 1,15 * MON", True),  # both restricted: Vixie OR
        ("0 0 */2 * 1", True),  # a step is a restriction
        ("0 0 1-31 * 1", True),  # so is a full range written out
        ("0 0 1 * *", False),
        ("0 0 * * 1", False),
        ("0 0 ? * 1", False),
        ("0 0 1 * ?", False),
        ("0 0 ? * ?", False),
    ],
)
def test_day_fields_combine_with_or_only_when_both_are_restricted(text: str, days_or: bool) -> None:
    assert cron(text).days_or is days_or


def test_question_mark_means_any_day() -> None:
    parsed = cron("0 0 ? * ?")
    assert parsed.days == ALL_DAYS
    assert parsed.weekdays == ALL_WEEKDAYS


@pytest.mark.parametrize(
    ("macro", "equivalent"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_macros_mean_their_cron_expression(macro: str, equivalent: str) -> None:
    parsed, expected = cron(macro), cron(equivalent)
    for field in ("seconds", "minutes", "hours", "days", "months", "weekdays", "days_or"):
        assert getattr(parsed, field) == getattr(expected, field), field
    assert parsed.text == macro


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("@every 1s", 1),
        ("@every 90s", 90),
        ("@every 1h30m", 5400),
        ("@every 1.5h", 5400),
        ("@every 2m30s", 150),
        ("@every .5m", 30),
        ("@every 30m1h", 5400),
        ("@EVERY 10m", 600),
    ],
)
def test_every_takes_go_style_durations_in_whole_seconds(text: str, seconds: int) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, EveryExpression)
    assert parsed.seconds == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@at 2030-01-01T09:00:00+01:00", "2030-01-01T08:00:00+00:00"),
        ("@at 2030-01-01T08:00:00Z", "2030-01-01T08:00:00+00:00"),
        ("@at 2030-01-01t08:00:00z", "2030-01-01T08:00:00+00:00"),
        ("@at 2030-01-01T08:00:00.000Z", "2030-01-01T08:00:00+00:00"),
        ("@at 2029-12-31T23:30:00-08:30", "2030-01-01T08:00:00+00:00"),
    ],
)
def test_at_takes_an_rfc3339_instant_with_offset(text: str, expected: str) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, AtExpression)
    assert parsed.instant == instant(expected)


@pytest.mark.parametrize(
    "text",
    ["  0 9 * * *", "0 9 * * *  ", "0\t9  *   * *", "0 9 * * *\n", "\t@daily ", " @every  90s "],
)
def test_outer_whitespace_is_ignored_and_fields_split_on_spaces_or_tabs(text: str) -> None:
    parse_expression(text)


ERRORS = [
    # (expression, field, message)
    ("", None, 'schedule "": empty expression'),
    ("   ", None, 'schedule "   ": empty expression'),
    (
        "* * * *",
        None,
        'schedule "* * * *": expected 5 fields (minute hour day-of-month month day-of-week)'
        " or 6 (a leading second), got 4",
    ),
    (
        "0 0 0 1 1 * 2030",
        None,
        'schedule "0 0 0 1 1 * 2030": expected 5 fields (minute hour day-of-month month'
        " day-of-week) or 6 (a leading second), got 7",
    ),
    ("*/0 * * * *", "minute", 'schedule "*/0 * * * *": minute: step must be at least 1'),
    ("61 * * * *", "minute", 'schedule "61 * * * *": minute: value 61 out of range 0-59'),
    ("0 24 * * *", "hour", 'schedule "0 24 * * *": hour: value 24 out of range 0-23'),
    ("0 0 0 * *", "day-of-month", 'schedule "0 0 0 * *": day-of-month: value 0 out of range 1-31'),
    (
        "0 0 32 * *",
        "day-of-month",
        'schedule "0 0 32 * *": day-of-month: value 32 out of range 1-31',
    ),
    ("0 0 1 13 *", "month", 'schedule "0 0 1 13 *": month: value 13 out of range 1-12'),
    ("0 0 * * 8", "day-of-week", 'schedule "0 0 * * 8": day-of-week: value 8 out of range 0-7'),
    ("60 * * * * *", "second", 'schedule "60 * * * * *": second: value 60 out of range 0-59'),
    (
        "5-2 * * * *",
        "minute",
        'schedule "5-2 * * * *": minute: range 5-2 is reversed (start must not exceed end)',
    ),
    (
        "0 0 * * FRI-MON",
        "day-of-week",
        'schedule "0 0 * * FRI-MON": day-of-week: range FRI-MON is reversed'
        " (start must not exceed end)",
    ),
    ("1,,2 * * * *", "minute", 'schedule "1,,2 * * * *": minute: empty list item'),
    ("1, * * * *", "minute", 'schedule "1, * * * *": minute: empty list item'),
    ("*/ * * * *", "minute", 'schedule "*/ * * * *": minute: missing step after /'),
    ("*/x * * * *", "minute", 'schedule "*/x * * * *": minute: invalid step "x"'),
    ("-5 * * * *", "minute", 'schedule "-5 * * * *": minute: invalid range "-5"'),
    ("1-* * * * *", "minute", 'schedule "1-* * * * *": minute: invalid value "*"'),
    ("x * * * *", "minute", 'schedule "x * * * *": minute: invalid value "x"'),
    ("JAN * * * *", "minute", 'schedule "JAN * * * *": minute: invalid value "JAN"'),
    ("0 0 1 FOO *", "month", 'schedule "0 0 1 FOO *": month: unknown month name "FOO"'),
    ("0 0 * * MOO", "day-of-week", 'schedule "0 0 * * MOO": day-of-week: unknown day name "MOO"'),
    (
        "? * * * *",
        "minute",
        'schedule "? * * * *": minute: "?" is allowed only in day-of-month and day-of-week',
    ),
    (
        "0 0 ?/2 * *",
        "day-of-month",
        'schedule "0 0 ?/2 * *": day-of-month: "?" must stand alone in its field',
    ),
    ("H * * * *", "minute", 'schedule "H * * * *": minute: "H": H (hashed value) is not supported'),
    (
        "H(0-29)/10 * * * *",
        "minute",
        'schedule "H(0-29)/10 * * * *": minute: "H(0-29)": H (hashed value) is not supported',
    ),
    (
        "0 0 30 2 *",
        "day-of-month",
        'schedule "0 0 30 2 *": day-of-month: never fires: day 30 does not occur in month 2',
    ),
    (
        "0 0 31 4,6,9,11 *",
        "day-of-month",
        'schedule "0 0 31 4,6,9,11 *": day-of-month: never fires: day 31 does not occur in'
        " month 4,6,9,11",
    ),
    (
        "@fortnightly",
        None,
        'schedule "@fortnightly": unknown macro "@fortnightly" (expected one of @yearly,'
        " @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>,"
        " @at <instant>)",
    ),
    ("@daily 5", None, 'schedule "@daily 5": macro @daily takes no arguments'),
    (
        "@every",
        "@every duration",
        'schedule "@every": @every duration: missing duration (e.g. 90s, 1h30m)',
    ),
    ("@every 0s", "@every duration", 'schedule "@every 0s": @every duration: must be at least 1s'),
    (
        "@every 1.5s",
        "@every duration",
        'schedule "@every 1.5s": @every duration: "1.5s" is not a whole number of seconds',
    ),
    (
        "@every 1500ms",
        "@every duration",
        'schedule "@every 1500ms": @every duration: unit "ms" is not supported (use h, m or s)',
    ),
    (
        "@every 1d",
        "@every duration",
        'schedule "@every 1d": @every duration: unknown unit "d" (use h, m or s)',
    ),
    (
        "@every 90",
        "@every duration",
        'schedule "@every 90": @every duration: missing unit after 90 (use h, m or s)',
    ),
    (
        "@every -1h",
        "@every duration",
        'schedule "@every -1h": @every duration: a duration cannot have a sign',
    ),
    (
        "@every 1h 30m",
        "@every duration",
        'schedule "@every 1h 30m": @every duration: expected one value, got "1h 30m"',
    ),
    (
        "@every 876001h",
        "@every duration",
        'schedule "@every 876001h": @every duration: must be at most 100 years',
    ),
    (
        "@at 2030-01-01T09:00:00",
        "@at instant",
        'schedule "@at 2030-01-01T09:00:00": @at instant: missing UTC offset (end with Z or'
        " +hh:mm)",
    ),
    (
        "@at 2030-01-01T09:00:00.250Z",
        "@at instant",
        'schedule "@at 2030-01-01T09:00:00.250Z": @at instant: sub-second precision is not'
        " supported (ticks are whole seconds)",
    ),
    (
        "@at 2030-02-30T09:00:00Z",
        "@at instant",
        'schedule "@at 2030-02-30T09:00:00Z": @at instant: "2030-02-30T09:00:00Z": day is out'
        " of range for month",
    ),
    (
        "@at 2030-01-01T23:59:60Z",
        "@at instant",
        'schedule "@at 2030-01-01T23:59:60Z": @at instant: leap second 60 is not supported',
    ),
    (
        "@at tomorrow",
        "@at instant",
        'schedule "@at tomorrow": @at instant: "tomorrow" is not an RFC 3339 instant'
        " (e.g. 2030-01-01T09:00:00Z)",
    ),
    (
        "@at 1700-01-01T00:00:00Z",
        "@at instant",
        'schedule "@at 1700-01-01T00:00:00Z": @at instant: must be within the years 1800-9998',
    ),
    (
        "* * * * \u00a0*",
        "day-of-week",
        'schedule "* * * * \\u00a0*": day-of-week: invalid value "\\u00a0*"',
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "message"), ERRORS, ids=[e[0] or "empty" for e in ERRORS]
)
def test_invalid_expression_is_rejected_with_a_one_line_message_naming_the_field(
    text: str, field: str | None, message: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_expression(text)
    assert str(caught.value) == message
    assert caught.value.field == field
    assert caught.value.expression == text
    assert message.endswith(caught.value.reason)


def test_schedule_error_is_a_value_error_that_survives_pickling() -> None:
    with pytest.raises(ValueError, match="step must be at least 1") as caught:
        parse_expression("*/0 * * * *")
    error = caught.value
    assert isinstance(error, ScheduleError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.expression, copy.field, copy.reason, str(copy)) == (
        error.expression,
        error.field,
        error.reason,
        str(error),
    )


def test_time_zone_error_is_a_schedule_error_naming_the_zone() -> None:
    error = TimeZoneError("Mars/Base", "unknown IANA time zone")
    assert isinstance(error, ScheduleError)
    assert error.field == "timeZone"
    assert str(error) == 'timeZone "Mars/Base": unknown IANA time zone'
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_long_expressions_are_shortened_in_messages() -> None:
    text = "1," * 200 + "99 * * * *"
    with pytest.raises(ScheduleError) as caught:
        parse_expression(text)
    assert len(str(caught.value)) < 200
    assert caught.value.expression == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789*/,-? @LWH#JANMONfri\t\n\u00e9x"), max_size=30))
def test_any_text_either_parses_or_fails_with_one_printable_line(text: str) -> None:
    try:
        parse_expression(text)
    except ScheduleError as error:
        message = str(error)
        assert message.isascii()
        assert message.isprintable()
        assert len(message.splitlines()) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_never_crashes_the_parser(text: str) -> None:
    try:
        parse_expression(text)
    except ScheduleError as error:
        assert str(error).isprintable()


def test_parsing_is_cached_per_text() -> None:
    assert parse_expression("0 9 * * MON") is parse_expression("0 9 * * MON")
