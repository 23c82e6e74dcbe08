"""Event budgets: per task and for the whole operator."""

from __future__ import annotations

from unittest import mock

from kron.engine.events import EventRecorder
from kron.engine.pool import Lane, WorkPool
from kron.k8s.runs import TaskRef
from kron.metrics import Metrics
from kron.planner import EventType, TaskEvent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def recorder(clock: Clock, **limits: float) -> tuple[EventRecorder, WorkPool, Metrics]:
    pool = WorkPool(workers=1, qps=100, burst=100)
    metrics = Metrics()
    rec = EventRecorder(mock.Mock(), pool, metrics, identity="test", clock=clock, **limits)  # type: ignore[arg-type]
    return rec, pool, metrics


def fired(i: int) -> TaskEvent:
    return TaskEvent(EventType.NORMAL, "Fired", f"Created Job run-{i}")


def dropped(metrics: Metrics) -> float:
    return metrics.events_dropped._value.get()  # type: ignore[no-any-return]


def test_the_operator_wide_rate_caps_events_from_many_tasks() -> None:
    clock = Clock()
    rec, pool, metrics = recorder(clock, rate=5.0, rate_burst=10)
    for i in range(100):
        rec.record(TaskRef("ns", f"t{i}", f"uid-{i}"), fired(i))
    assert pool.depth(Lane.EVENT) == 10
    assert dropped(metrics) == 90
    clock.now += 1.0  # five more tokens
    for i in range(100, 110):
        rec.record(TaskRef("ns", f"t{i}", f"uid-{i}"), fired(i))
    assert pool.depth(Lane.EVENT) == 15


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
