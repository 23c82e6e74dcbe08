"""The timer heap: one wake time per task, earliest first, rescheduling replaces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kron.engine.timers import Timers


def test_pop_due_returns_due_keys_earliest_first_up_to_the_limit() -> None:
    t = Timers()
    t.set("b", 20.0)
    t.set("a", 10.0)
    t.set("c", 30.0)
    assert t.pop_due(25.0, limit=10) == ["a", "b"]
    assert t.pop_due(25.0, limit=10) == []
    assert t.next_time() == 30.0


def test_rescheduling_replaces_the_earlier_wake_time() -> None:
    t = Timers()
    t.set("a", 10.0)
    t.set("a", 50.0)
    assert t.pop_due(20.0, limit=10) == []
    assert t.next_time() == 50.0


def test_set_earlier_only_moves_a_wake_time_forward() -> None:
    t = Timers()
    t.set("a", 10.0)
    t.set_earlier("a", 20.0)
    assert t.get("a") == 10.0
    t.set_earlier("a", 5.0)
    assert t.get("a") == 5.0


def test_cancel_and_none_remove_a_key() -> None:
    t = Timers()
    t.set("a", 1.0)
    t.set("b", 2.0)
    t.cancel("a")
    t.set("b", None)
    assert t.pop_due(100.0, limit=10) == []
    assert len(t) == 0


@given(
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0, 1000)), max_size=200),
    st.floats(0, 1000),
)
def test_pop_due_matches_the_latest_setting_of_every_key(
    settings: list[tuple[str, float]], now: float
) -> None:
    t = Timers()
    latest: dict[str, float] = {}
    for key, when in settings:
        t.set(key, when)
        latest[key] = when
    due = t.pop_due(now, limit=100)
    assert sorted(due) == sorted(k for k, w in latest.items() if w <= now)
    assert [latest[k] for k in due] == sorted(latest[k] for k in due)
