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


# -- fair between namespaces (the engine passes each task's namespace as its group) --


def grouped(weights: dict[str, float] | None = None) -> Timers:
    return Timers(group=lambda key: key.split("/")[0], weights=weights)


def test_due_tasks_of_two_namespaces_are_handed_out_in_turns() -> None:
    t = grouped()
    for i in range(10):
        t.set(f"a/{i}", 100.0)
    for i in range(2):
        t.set(f"b/{i}", 100.0)
    assert t.pop_due(100.0, limit=4) == ["a/0", "b/0", "a/1", "b/1"]
    assert t.pop_due(100.0, limit=100) == [f"a/{i}" for i in range(2, 10)]


def test_within_a_namespace_due_tasks_stay_earliest_first() -> None:
    t = grouped()
    t.set("a/late", 30.0)
    t.set("a/early", 10.0)
    t.set("b/x", 20.0)
    assert t.pop_due(50.0, limit=10) == ["a/early", "b/x", "a/late"]


def test_weights_apply_to_due_tasks_too() -> None:
    t = grouped({"a": 2})
    for i in range(4):
        t.set(f"a/{i}", 1.0)
        t.set(f"b/{i}", 1.0)
    assert [k[0] for k in t.pop_due(1.0, limit=8)] == list("aabaabbb")


def test_a_task_rescheduled_after_it_was_found_due_is_not_popped_at_the_old_time() -> None:
    t = grouped()
    t.set("a/1", 10.0)
    t.set("a/2", 10.0)
    assert t.pop_due(20.0, limit=1) == ["a/1"]  # a/2 now waits in the fair stage
    t.set("a/2", 50.0)
    assert t.pop_due(20.0, limit=10) == []
    assert t.next_time() == 50.0
    assert t.pop_due(50.0, limit=10) == ["a/2"]


def test_next_time_is_never_later_than_a_due_task_waiting_its_turn() -> None:
    t = grouped()
    for i in range(3):
        t.set(f"a/{i}", 10.0)
    t.set("b/0", 40.0)
    assert t.pop_due(20.0, limit=1) == ["a/0"]
    nxt = t.next_time()
    assert nxt is not None and nxt <= 10.0


@given(
    st.lists(
        st.tuples(st.sampled_from(["a/1", "a/2", "a/3", "b/1", "b/2", "c/1"]), st.floats(0, 1000)),
        max_size=200,
    ),
    st.floats(0, 1000),
    st.integers(1, 4),
)
def test_fair_pop_due_returns_exactly_the_due_keys_each_namespace_earliest_first(
    settings: list[tuple[str, float]], now: float, batch: int
) -> None:
    t = grouped()
    latest: dict[str, float] = {}
    for key, when in settings:
        t.set(key, when)
        latest[key] = when
    due: list[str] = []
    while popped := t.pop_due(now, limit=batch):
        assert len(popped) <= batch
        due.extend(popped)
    assert sorted(due) == sorted(k for k, w in latest.items() if w <= now)
    for ns in "abc":
        mine = [latest[k] for k in due if k.startswith(ns)]
        assert mine == sorted(mine)
    assert len(t) == len(latest) - len(due)
