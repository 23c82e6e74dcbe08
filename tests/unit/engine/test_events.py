"""Event budgets: per task, and for the whole operator shared fairly between namespaces."""

from __future__ import annotations

import asyncio
from unittest import mock

from kron.engine.events import EventRecorder
from kron.engine.pool import Lane, WorkPool
from kron.k8s.runs import TaskRef
from kron.metrics import Metrics
from kron.planner import EventType, TaskEvent
from support.wait import async_wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def recorder(clock: Clock, **limits: float) -> tuple[EventRecorder, WorkPool, Metrics]:
    """A recorder whose pool does not run: what is queued stays queued."""
    pool = WorkPool(workers=1, qps=100, burst=100)
    metrics = Metrics()
    rec = EventRecorder(mock.Mock(), pool, metrics, identity="test", clock=clock, **limits)  # type: ignore[arg-type]
    return rec, pool, metrics


def fired(i: int) -> TaskEvent:
    return TaskEvent(EventType.NORMAL, "Fired", f"Created Job run-{i}")


def dropped(metrics: Metrics) -> float:
    return metrics.events_dropped._value.get()  # type: ignore[no-any-return]


def test_one_namespace_alone_may_fill_at_most_half_of_the_waiting_events() -> None:
    clock = Clock()
    rec, pool, metrics = recorder(clock, max_pending=20)
    for i in range(100):
        rec.record(TaskRef("chatty", f"t{i}", f"uid-{i}"), fired(i))
    assert pool.depth(Lane.EVENT) == 10
    assert dropped(metrics) == 90


def test_a_quiet_namespace_finds_room_beside_a_chatty_one() -> None:
    clock = Clock()
    rec, pool, _ = recorder(clock, max_pending=20)
    for i in range(100):
        rec.record(TaskRef("chatty", f"t{i}", f"uid-{i}"), fired(i))
    for i in range(5):
        rec.record(TaskRef("quiet", f"q{i}", f"uid-q{i}"), fired(i))
    assert pool.depth(Lane.EVENT, "quiet") == 5
    # A third namespace still finds room: each may hold fewer than the free places.
    for i in range(5):
        rec.record(TaskRef("third", f"r{i}", f"uid-r{i}"), fired(i))
    assert pool.depth(Lane.EVENT, "third") == 3  # 3 < 20 - 18 no longer holds
    assert pool.depth(Lane.EVENT) == 18


async def test_the_operator_wide_budget_is_shared_in_turns_between_namespaces() -> None:
    clock = Clock()
    api = mock.Mock()
    posted: list[str] = []

    async def create_event(namespace: str, body: dict[str, object]) -> dict[str, object]:
        posted.append(namespace)
        return {"metadata": {"name": f"e{len(posted)}"}}

    api.create_event = create_event
    pool = WorkPool(workers=4, qps=1000, burst=1000)
    rec = EventRecorder(
        api, pool, Metrics(), identity="test", clock=clock, rate=400.0, rate_burst=1
    )
    for i in range(30):
        rec.record(TaskRef("chatty", f"t{i}", f"uid-{i}"), fired(i))
    for i in range(3):
        rec.record(TaskRef("quiet", f"q{i}", f"uid-q{i}"), fired(i))
    runner = asyncio.create_task(pool.run())
    try:
        await async_wait_until(
            lambda: len(posted) == 33, timeout=10, interval=0.005, message="all 33 posted"
        )
    finally:
        runner.cancel()
    # The quiet namespace's three go out in the first rounds, not after the 30.
    assert max(i for i, ns in enumerate(posted) if ns == "quiet") <= 6


def test_a_task_over_its_own_budget_does_not_spend_the_operator_budget() -> None:
    clock = Clock()
    rec, pool, _ = recorder(clock, burst=2, rate=1.0, rate_burst=3)
    chatty = TaskRef("ns", "chatty", "uid-chatty")
    for i in range(5):
        rec.record(chatty, fired(i))
    assert pool.depth(Lane.EVENT) == 2
    rec.record(TaskRef("ns", "quiet", "uid-quiet"), fired(99))
    assert pool.depth(Lane.EVENT) == 3


def test_routine_events_are_posted_only_when_asked_for() -> None:
    clock = Clock()
    pool = WorkPool(workers=1, qps=100, burst=100)
    quiet = EventRecorder(mock.Mock(), pool, Metrics(), identity="t", clock=clock, routine=False)  # type: ignore[arg-type]
    task = TaskRef("ns", "t", "uid")
    quiet.record(task, TaskEvent(EventType.NORMAL, "Fired", "Created Job x"))
    quiet.record(task, TaskEvent(EventType.NORMAL, "Succeeded", "Run x succeeded"))
    assert pool.depth(Lane.EVENT) == 0
    quiet.record(task, TaskEvent(EventType.WARNING, "Failed", "Run x failed"))
    assert pool.depth(Lane.EVENT) == 1
