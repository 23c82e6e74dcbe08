"""Schedules in words: the phrases `kron ui` shows next to the cron text."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schedule_strategies import cron_texts

from kron.schedule import ScheduleError, compile_timeline
from kron.schedule.describe import describe_expression, describe_schedules


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("*/5 * * * *", "every 5 minutes"),
        ("* * * * *", "every minute"),
        ("0,30 * * * *", "every 30 minutes"),  # what fires, not how it is written
        ("*/7 * * * *", "every 7 minutes from :00 to :56 of each hour"),  # :56 -> :00 is 4 min
        ("0 * * * *", "every hour"),
        ("@hourly", "every hour"),
        ("15 * * * *", "every hour at minute 15"),
        ("0,15,45 * * * *", "every hour at minutes 0, 15 and 45"),
        ("0 */2 * * *", "every 2 hours"),
        ("30 2 * * 1-5", "at 02:30 on weekdays"),
        ("0 3 * * *", "at 03:00 every day"),
        ("@daily", "at 00:00 every day"),
        ("0 8,12,18 * * *", "at 08:00, 12:00 and 18:00 every day"),
        ("0,30 9 * * *", "at 09:00 and 09:30 every day"),
        ("0 9-17 * * 1-5", "every hour from 09:00 to 17:00 on weekdays"),
        ("*/10 9-17 * * *", "every 10 minutes from 09:00 to 17:50"),
        ("*/20 0-5,18-23 * * *", "every 20 minutes from 00:00 to 05:40 and from 18:00 to 23:40"),
        ("* 2 * * *", "every minute from 02:00 to 02:59"),
        ("*/10 * * * * *", "every 10 seconds"),
        ("* * * * * *", "every second"),
        ("30 30 2 * * *", "at 02:30:30 every day"),
        ("0 0 1 * *", "at 00:00 on the 1st of every month"),
        ("0 0 1-7 * *", "at 00:00 on days 1 to 7 of every month"),
        ("0 0 1 1 *", "at 00:00 on 1 January"),
        ("@yearly", "at 00:00 on 1 January"),
        ("@weekly", "at 00:00 on Sundays"),
        ("0 0 * * 6,0", "at 00:00 on weekends"),
        ("0 0 * * MON-WED", "at 00:00 from Monday to Wednesday"),
        ("0 0 * * MON,WED,FRI", "at 00:00 on Mondays, Wednesdays and Fridays"),
        ("0 0 * 3-10 *", "at 00:00 from March to October"),
        ("0 0 * 1,7 *", "at 00:00 in January and July"),
        ("0 0 1,15 * MON", "at 00:00 on the 1st and 15th and on Mondays"),  # Vixie: either
        ("@every 90s", "every 90 seconds"),
        ("@every 1h30m", "every 90 minutes"),
        ("@every 2h", "every 2 hours"),
        ("@every 1h", "every hour"),
        ("@every 1h0m1s", "every 1 hour 1 second"),
        ("@at 2026-12-24T18:00:00+01:00", "once, at 2026-12-24 17:00:00 UTC"),
    ],
)
def test_common_schedules_read_as_people_say_them(expression: str, words: str) -> None:
    assert describe_expression(expression) == words


@pytest.mark.parametrize(
    "expression",
    [
        "7,11,13,17,19,23,29,31 * * * *",  # no short phrase
        "*/7 */5 * * * *",
        "*/7 * * * * *",
        "0 0 1,3,5,7,9,11,13,15 * *",
    ],
)
def test_shapes_without_a_short_phrase_get_none(expression: str) -> None:
    assert describe_expression(expression) is None


def test_an_invalid_expression_raises_the_schedule_error() -> None:
    with pytest.raises(ScheduleError):
        describe_expression("61 * * * *")


def test_several_schedules_are_joined_and_one_without_words_spoils_the_sentence() -> None:
    assert describe_schedules(["0 3 * * *", "@every 2h"]) == "at 03:00 every day; and every 2 hours"
    assert describe_schedules(["0 3 * * *", "7,11,13,17,19,23,29,31 * * * *"]) is None
    assert describe_schedules(["0 3 * * *", "not cron"]) is None


# -- the words say what fires ----------------------------------------------------------

EVERY = re.compile(r"every (\d+) (second|minute|hour)s")
AT_DAILY = re.compile(r"at ((?:\d\d:\d\d(?::\d\d)?(?:, | and )?)+) every day")
UNIT = {"second": 1, "minute": 60, "hour": 3600}
START = int(datetime(2026, 5, 4, tzinfo=UTC).timestamp())  # a Monday, no DST in UTC


@given(cron_texts())
def test_describing_never_fails_on_a_valid_expression(text: str) -> None:
    words = describe_expression(text)
    assert words is None or words.strip() == words != ""


@given(cron_texts(), st.integers(0, 400 * 86_400))
def test_every_n_units_means_consecutive_fires_n_units_apart(text: str, offset: int) -> None:
    words = describe_expression(text)
    match = EVERY.fullmatch(words or "")
    if match is None:
        return
    gap = int(match.group(1)) * UNIT[match.group(2)]
    timeline = compile_timeline(schedules=[text])
    ticks = [t.nominal for t in timeline.upcoming(START + offset, 20)]
    assert all(b - a == gap for a, b in itertools.pairwise(ticks)), (text, ticks)


@given(cron_texts())
def test_at_times_every_day_are_exactly_the_day_s_fires(text: str) -> None:
    words = describe_expression(text)
    match = AT_DAILY.fullmatch(words or "")
    if match is None:
        return
    said = re.findall(r"\d\d:\d\d(?::\d\d)?", match.group(1))
    timeline = compile_timeline(schedules=[text])
    fired = [
        datetime.fromtimestamp(t.nominal, UTC).strftime("%H:%M:%S")
        for t in timeline.ticks(START - 1, START + 86_399)
    ]
    assert fired == [s if len(s) == 8 else s + ":00" for s in said], (text, fired)
