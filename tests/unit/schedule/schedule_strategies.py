"""Hypothesis strategies shared by the schedule property tests."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from kron.schedule import parse_expression


def field(low: int, high: int, *, dense: bool) -> st.SearchStrategy[str]:
    """Text of one cron field between ``low`` and ``high``."""
    value = st.integers(low, high)
    span = high - low + 1

    def ranged(pair: tuple[int, int]) -> str:
        a, b = sorted(pair)
        return f"{a}-{b}"

    item = st.one_of(
        value.map(str),
        st.tuples(value, value).map(ranged),
        st.tuples(st.tuples(value, value).map(ranged), st.integers(1, span)).map(
            lambda rs: f"{rs[0]}/{rs[1]}"
        ),
        st.tuples(value, st.integers(1, span)).map(lambda vs: f"{vs[0]}/{vs[1]}"),
    )
    listed = st.lists(item, min_size=1, max_size=3).map(",".join)
    star_step = st.integers(1, span).map(lambda k: f"*/{k}")
    if dense:
        return st.one_of(st.just("*"), star_step, listed)
    return st.one_of(listed, star_step, st.just("*"))


_DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def weekday_text(day: int, draw: st.DrawFn) -> str:
    """A weekday 0-6 as a number, a name in some case, or 7 for Sunday."""
    choices = [str(day), _DAY_NAMES[day], _DAY_NAMES[day].lower()]
    if day == 0:
        choices.append("7")
    return draw(st.sampled_from(choices))


@st.composite
def day_of_month_items(draw: st.DrawFn) -> str:
    """A list mixing L, L-n, LW, L-nW, nW and plain days."""
    item = st.one_of(
        st.just("L"),
        st.integers(1, 30).map(lambda n: f"L-{n}"),
        st.just("LW"),
        st.integers(1, 30).map(lambda n: f"L-{n}W"),
        st.integers(1, 31).map(lambda n: f"{n}W"),
        st.integers(1, 31).map(str),
        st.tuples(st.integers(1, 31), st.integers(1, 31)).map(lambda p: f"{min(p)}-{max(p)}"),
    )
    return ",".join(draw(st.lists(item, min_size=1, max_size=3)))


@st.composite
def day_of_week_items(draw: st.DrawFn) -> str:
    """A list mixing d#n, dL and plain weekdays."""
    items = []
    for _ in range(draw(st.integers(1, 3))):
        day = draw(st.integers(0, 6))
        kind = draw(st.sampled_from(["nth", "last", "plain"]))
        text = weekday_text(day, draw)
        if kind == "nth":
            text += f"#{draw(st.integers(1, 5))}"
        elif kind == "last":
            text += draw(st.sampled_from(["L", "l"]))
        items.append(text)
    return ",".join(items)


@st.composite
def cron_texts(draw: st.DrawFn, *, seconds: bool | None = None) -> str:
    with_seconds = draw(st.booleans()) if seconds is None else seconds
    parts = []
    if with_seconds:
        parts.append(draw(st.sampled_from(["0", "*/15", "*/20", "0,30", "30-59", "0-9,50-59"])))
    parts += [
        draw(field(0, 59, dense=False)),
        draw(field(0, 23, dense=True)),
        draw(st.one_of(st.just("*"), st.just("?"), field(1, 31, dense=True), day_of_month_items())),
        draw(st.one_of(st.just("*"), field(1, 12, dense=True))),
        draw(st.one_of(st.just("*"), st.just("?"), field(0, 7, dense=True), day_of_week_items())),
    ]
    text = " ".join(parts)
    try:
        parse_expression(text)
    except ValueError:
        assume(False)  # e.g. a day that never occurs in the chosen months
    return text
