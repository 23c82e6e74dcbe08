"""Admission (the CRD's CEL rules) never rejects what kron.schedule accepts.

The rules' regular expressions are evaluated here with Python's ``re``
(``kron.api.cel.admission_problems``); ``test_crd_cluster.py`` checks on a real API
server that RE2 gives the same verdicts, so these fast tests speak for admission.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contract.corpus import INVALID_EXPRESSIONS, LENIENT_EXPRESSIONS, VALID_EXPRESSIONS
from contract.samples import VALID
from kron.api import cel
from kron.schedule import ScheduleError, parse_expression


def python_accepts(text: str) -> bool:
    try:
        parse_expression(text)
    except ScheduleError:
        return False
    return True


def admitted(text: str) -> bool:
    return not cel.admission_problems(text)


@pytest.mark.parametrize("text", VALID_EXPRESSIONS)
def test_valid_expression_is_admitted(text: str) -> None:
    assert python_accepts(text), "corpus error: kron.schedule rejects it"
    assert admitted(text), cel.admission_problems(text)


@pytest.mark.parametrize("text", INVALID_EXPRESSIONS)
def test_invalid_expression_is_rejected_at_admission(text: str) -> None:
    assert not python_accepts(text), "corpus error: kron.schedule accepts it"
    assert not admitted(text)


@pytest.mark.parametrize("text", sorted(LENIENT_EXPRESSIONS))
def test_known_leniency_is_still_lenient_and_caught_by_the_engine(text: str) -> None:
    # If admission learns to reject one of these, drop it here and from KNOWN_LENIENCIES.
    assert admitted(text)
    assert not python_accepts(text)


def test_every_known_leniency_is_documented() -> None:
    assert len(LENIENT_EXPRESSIONS) >= len(cel.KNOWN_LENIENCIES)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("61 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 32 * *", "day-of-month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day-of-week"),
        ("60 * * * * *", "seconds"),
        ("0 60 * * * *", "minute"),
        ("0 0 0 0 * *", "day-of-month"),
    ],
)
def test_message_names_the_cron_field(text: str, names: str) -> None:
    (problem,) = cel.admission_problems(text)
    assert problem.startswith(f"the {names} field")


def test_sample_expressions_are_admitted() -> None:
    for sample in VALID.values():
        spec = sample["spec"]
        for text in [
            spec.get("schedule"),
            *spec.get("schedules", []),
            *spec.get("excludeSchedules", []),
        ]:
            if text is not None:
                assert admitted(text), (text, cel.admission_problems(text))


_VALUES = ["0", "5", "07", "59", "60", "23", "24", "1", "31", "32", "12", "13", "7", "8"]
_NAMES = ["JAN", "dec", "Feb", "MON", "sun", "fri", "XYZ"]
_ODD = ["L", "W", "#", "H", "?", "", "-", "/", "*", "LW", "L-", "5#", "#3", "15W", "5L", "L-3"]


@st.composite
def cron_like(draw: st.DrawFn) -> str:
    """Five or six fields built from right and wrong pieces, joined by spaces or tabs."""

    def item() -> str:
        start = draw(st.sampled_from(["*", *_VALUES, *_NAMES, *_ODD]))
        if draw(st.booleans()):
            start += "-" + draw(st.sampled_from([*_VALUES, *_NAMES, *_ODD]))
        if draw(st.integers(0, 3)) == 0:
            start += "/" + draw(st.sampled_from(["0", "1", "5", "15", "", "x"]))
        return start

    def field() -> str:
        return ",".join(item() for _ in range(draw(st.integers(1, 3))))

    count = draw(st.sampled_from([4, 5, 5, 6, 6, 7]))
    separators = [draw(st.sampled_from([" ", "  ", "\t"])) for _ in range(count - 1)]
    text = field()
    for separator in separators:
        text += separator + field()
    return text


_FIELD_VALUES = {
    "second": [str(n) for n in range(0, 60, 7)] + ["00", "59"],
    "minute": [str(n) for n in range(0, 60, 7)] + ["05", "59"],
    "hour": [str(n) for n in range(0, 24, 5)] + ["23", "007"],
    "day-of-month": [str(n) for n in range(1, 32, 5)]
    + ["31", "01", "L", "l", "L-1", "L-30", "L-31", "L-0", "LW", "L-3W", "15W", "1w", "31W"]
    + ["0W", "32W", "W"],
    "month": [str(n) for n in range(1, 13, 3)] + ["JAN", "feb", "Dec", "12"],
    "day-of-week": [str(n) for n in range(8)]
    + ["SUN", "mon", "Sat", "5#3", "TUE#2", "7#5", "2#6", "1#0", "5L", "FRIL", "0l", "L", "8L"],
}


@st.composite
def field_aware_cron(draw: st.DrawFn) -> str:
    """Mostly valid cron: each field from its own vocabulary, now and then a wrong piece."""
    names = ["minute", "hour", "day-of-month", "month", "day-of-week"]
    if draw(st.booleans()):
        names.insert(0, "second")
    fields = []
    for name in names:
        vocabulary = _FIELD_VALUES[name]
        if name in ("day-of-month", "day-of-week") and draw(st.integers(0, 5)) == 0:
            fields.append("?")
            continue
        items = []
        for _ in range(draw(st.integers(1, 3))):
            pool = vocabulary if draw(st.integers(0, 9)) else [*_VALUES, *_NAMES, *_ODD]
            item = draw(st.sampled_from(["*", *pool]))
            if item != "*" and draw(st.booleans()):
                item += "-" + draw(st.sampled_from(pool))
            if draw(st.integers(0, 3)) == 0:
                item += "/" + draw(st.sampled_from(["1", "2", "15", "0"]))
            items.append(item)
        fields.append(",".join(items))
    return " ".join(fields)


@given(field_aware_cron())
@settings(max_examples=1000, deadline=None)
def test_admission_is_never_stricter_than_the_engine_for_field_aware_cron(text: str) -> None:
    if not admitted(text):
        assert not python_accepts(text), cel.admission_problems(text)


_WORDS = ["@every", "@at", "@daily", "@Hourly", "@weekly", "@fortnightly", "@"]
_ARGUMENTS = ["90s", "1h30m", "0s", "1.5h", ".5h", "1.m", "500ms", "1d", "2030-01-01T00:00:00Z"]
_ARGUMENTS += ["2030-01-01T00:00:00", "2030-02-30T00:00:00+01:00", "1h 2m", ""]


@given(cron_like())
@settings(max_examples=1000, deadline=None)
@example("0 0 * * 7")
def test_admission_is_never_stricter_than_the_engine_for_cron(text: str) -> None:
    if not admitted(text):
        assert not python_accepts(text), cel.admission_problems(text)


@given(st.sampled_from(_WORDS), st.sampled_from([" ", "\t", ""]), st.sampled_from(_ARGUMENTS))
def test_admission_is_never_stricter_than_the_engine_for_macros(
    word: str, separator: str, argument: str
) -> None:
    text = f"{word}{separator}{argument}"
    if not admitted(text):
        assert not python_accepts(text), cel.admission_problems(text)


@given(st.text(alphabet="0123456789*/,-?@ \tLW#JANMOFRIeryvdhms:TZ.", max_size=24))
@settings(max_examples=1000, deadline=None)
def test_admission_is_never_stricter_than_the_engine_for_any_text(text: str) -> None:
    if not admitted(text):
        assert not python_accepts(text), cel.admission_problems(text)
