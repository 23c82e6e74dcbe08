"""Fault isolation: what goes wrong for one task, in the index or the planner, stays with it.

These drive the real engine (index, planner, executor queueing) with hostile
objects; nothing here talks to a cluster, the integration suite does the same on
the real control plane.
"""

from __future__ import annotations

from typing import Any

import pytest

from kron.api import RunKind, Trigger
from kron.api.constants import MAX_INDEXED_RUNS
from kron.engine import observing
from kron.engine import planning as planning_module
from kron.k8s.api import ApiError
from kron.k8s.runs import TaskRef
from kron.planner import CreateRun, FailureKind
from kron.schedule import Timeline
from support.engine import T0, Clock, creates, engine, plan_all, run_object, sample, task_object

A = TaskRef("team-a", "alpha", "uid-a")
B = TaskRef("team-b", "beta", "uid-b")


def ready(e: Any, uid: str) -> dict[str, Any]:
    status = e.tasks[uid].intended_api()
    return next(c for c in status["conditions"] if c["type"] == "Ready")


def stalled(e: Any, uid: str) -> dict[str, Any]:
    status = e.tasks[uid].intended_api()
    return next(c for c in status["conditions"] if c["type"] == "Stalled")


def both(clock: Clock) -> Any:
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    e.observe_task("ADDED", task_object(B.name, B.namespace, B.uid))
    return e


def test_a_task_whose_plan_raises_is_reported_on_its_own_and_retried_with_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = planning_module.plan

    def plan(task: Any, now: float, budget: Any = None) -> Any:
        if task.uid == A.uid:
            raise OverflowError("date value out of range\nsecond line")
        return real(task, now, budget)

    monkeypatch.setattr(planning_module, "plan", plan)
    clock = Clock(T0 + 0.5)
    e = both(clock)
    plan_all(e)
    condition = ready(e, A.uid)
    assert (condition["status"], condition["reason"]) == ("False", "InternalError")
    assert condition["message"] == "plan: OverflowError: date value out of range second line"
    assert (stalled(e, A.uid)["status"], stalled(e, A.uid)["reason"]) == ("False", "InternalError")
    assert sample(e.metrics, "kron_task_errors_total", stage="plan") == 1
    assert e.timers.get(A.uid) == clock.now + 1.0
    # The other tenant's task planned and fired as if nothing happened.
    assert ready(e, B.uid)["reason"] == "Scheduled"
    assert [r.name for r in creates(e)] == ["beta-1767225600"]
    # Each failure doubles the wait.
    clock.now = e.timers.get(A.uid)  # type: ignore[assignment]
    plan_all(e)
    assert e.timers.get(A.uid) == clock.now + 2.0
    assert sample(e.metrics, "kron_task_errors_total", stage="plan") == 2


def test_a_task_recovering_from_an_internal_error_catches_up_instead_of_firing_a_backlog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = planning_module.plan
    broken = {"on": True}

    def plan(task: Any, now: float, budget: Any = None) -> Any:
        if broken["on"]:
            raise RuntimeError("boom")
        return real(task, now, budget)

    monkeypatch.setattr(planning_module, "plan", plan)
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid, created="2026-01-01T00:00:00Z"))
    plan_all(e)
    broken["on"] = False
    clock.now = T0 + 30.5  # 30 per-second ticks passed while it could not be planned
    e.wake(A.uid)
    plan_all(e)
    assert ready(e, A.uid)["reason"] == "Scheduled"
    # catchUpPolicy Latest (the default): the newest tick runs, the others are Missed.
    assert [r.name for r in creates(e)] == ["alpha-1767225630"]
    counts = e.tasks[A.uid].intended_api()["counts"]
    assert counts["missed"] == 29


def test_an_object_that_breaks_the_index_is_counted_and_the_index_goes_on() -> None:
    clock = Clock()
    e = engine(clock)
    hostile = task_object(A.name, A.namespace, A.uid)
    hostile["metadata"]["annotations"] = {"kron.dev/run-now": "x"}
    hostile["metadata"]["generation"] = "not a number"
    e.observe_task("ADDED", hostile)
    assert sample(e.metrics, "kron_task_errors_total", stage="index") == 1
    e.observe_task("ADDED", task_object(B.name, B.namespace, B.uid))
    plan_all(e)
    assert ready(e, B.uid)["reason"] == "Scheduled"


def test_a_spec_that_cannot_be_read_inside_kron_is_an_internal_error_and_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"n": 0}
    real = observing.read_spec

    def read_spec(raw: object) -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:  # when observed, and again at its first plan
            raise RecursionError("maximum recursion depth exceeded")
        return real(raw)

    monkeypatch.setattr(observing, "read_spec", read_spec)
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    plan_all(e)
    assert ready(e, A.uid)["reason"] == "InternalError"
    assert "RecursionError" in ready(e, A.uid)["message"]
    clock.now = e.timers.get(A.uid)  # type: ignore[assignment]
    plan_all(e)
    assert ready(e, A.uid)["reason"] == "Scheduled"


def test_a_forged_run_in_another_namespace_is_ignored_and_never_moves_the_cursor() -> None:
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    future = 4_102_444_800  # 2100-01-01
    forged = run_object(A, future, created=T0)
    forged["metadata"]["namespace"] = B.namespace
    e.observe_run(RunKind.JOB, "ADDED", forged)
    assert e.tasks[A.uid].runs == {}
    assert sample(e.metrics, "kron_runs_ignored_total", reason="namespace") == 1
    plan_all(e)
    status = e.tasks[A.uid].intended_api()
    assert status["lastScheduleTime"] == "2026-01-01T00:00:00Z"
    assert [r.name for r in creates(e)] == ["alpha-1767225600"]


def test_a_forged_run_listed_before_its_task_is_not_adopted_by_it() -> None:
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    forged = run_object(A, 4_102_444_800, created=4_102_444_800)
    forged["metadata"]["namespace"] = B.namespace
    e.observe_run(RunKind.JOB, None, forged)  # an orphan: its task is not known yet
    e.observe_task(None, task_object(A.name, A.namespace, A.uid))
    assert e.tasks[A.uid].runs == {}


def test_a_far_future_run_in_the_tasks_own_namespace_is_ignored_too() -> None:
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    e.observe_run(RunKind.JOB, "ADDED", run_object(A, 4_102_444_800, created=T0))
    assert e.tasks[A.uid].runs == {}
    assert sample(e.metrics, "kron_runs_ignored_total", reason="future") == 1


def test_a_labelled_pod_without_an_owner_reference_is_ignored() -> None:
    clock = Clock()
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    forged = run_object(A, int(T0))
    del forged["metadata"]["ownerReferences"]
    e.observe_run(RunKind.POD, "ADDED", forged)
    assert e.tasks[A.uid].runs == {}
    assert sample(e.metrics, "kron_runs_ignored_total", reason="owner") == 1


def test_an_observed_run_that_raises_inside_kron_is_counted_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def read_run(*_: Any) -> Any:
        raise ValueError("bad")

    monkeypatch.setattr(observing, "read_run", read_run)
    clock = Clock()
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    e.observe_run(RunKind.JOB, "ADDED", run_object(A, int(T0)))
    assert sample(e.metrics, "kron_task_errors_total", stage="observe") == 1


def test_a_template_with_kron_keys_is_reported_once_and_they_are_left_out() -> None:
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    job = {
        "metadata": {"labels": {"kron.dev/task-uid": "uid-b"}},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "i"}]}}},
    }
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid, {"jobTemplate": job}))
    recorded: list[Any] = []
    e.events.record = lambda ref, event: recorded.append(event)  # type: ignore[method-assign]
    plan_all(e)
    e.wake(A.uid)
    plan_all(e)
    reserved = [ev for ev in recorded if ev.reason == "ReservedMetadata"]
    assert len(reserved) == 1
    assert "metadata.labels.kron.dev/task-uid" in reserved[0].message


def test_runs_missing_from_a_relist_are_gone_and_leave_a_tombstone() -> None:
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid))
    e.observe_run(RunKind.JOB, None, run_object(A, int(T0) - 5))
    e.observe_run(RunKind.JOB, None, run_object(A, int(T0) - 4))
    kept = (A.namespace, f"{A.name}-{int(T0) - 4}")
    e.index.runs_relisted(RunKind.JOB, None, {kept})
    assert list(e.tasks[A.uid].runs) == [kept[1]]
    assert e.tasks[A.uid].tombstone == int(T0) - 5


def test_a_task_whose_look_ahead_always_runs_out_of_budget_backs_off_but_keeps_firing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One tenant's costly look-ahead (exclusions that skip everything) must not take the
    dispatcher every second: its look-ahead backs off, its ticks still fire."""
    looks: list[float] = []
    real = Timeline.upcoming

    def upcoming(self: Timeline, after: int, count: int, stop: Any = None) -> Any:
        looks.append(after)
        return real(self, after, count, stop)

    monkeypatch.setattr(planning_module, "PLAN_BUDGET", -1.0)  # every plan runs out
    monkeypatch.setattr(Timeline, "upcoming", upcoming)
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task("ADDED", task_object(A.name, A.namespace, A.uid, created="2026-01-01T00:00:00Z"))
    fired = 0
    for second in range(1, 61):
        clock.now = T0 + second + 0.5
        e.wake(A.uid)
        plan_all(e)
        fired = len(e.tasks[A.uid].runs)
    assert fired == 60  # one run per second, every second
    assert len(looks) <= 8, len(looks)  # 1, 2, 4, 8, 16, 32 s apart: a handful in a minute


def test_a_task_that_asks_to_be_planned_again_at_once_is_planned_once_per_turn() -> None:
    """A plan that wakes its task "now" again (more backfill, or a planner bug) is
    planned next turn, after every other task due now; one turn never loops on it."""
    clock = Clock(T0 + 10)
    e = engine(clock)
    e.observe_task(None, task_object("alpha", "team-a", "uid-a"))
    e.observe_task(None, task_object("beta", "team-b", "uid-b"))
    planned: list[str] = []

    def again_at_once(entry: Any, now: float, resumed_at: float) -> float:
        planned.append(entry.ref.uid)
        return now

    e.planning.plan = again_at_once  # type: ignore[method-assign]
    e.turn(clock())
    assert sorted(planned) == ["uid-a", "uid-b"]
    nxt = e.timers.next_time()
    assert nxt is not None and nxt > clock()


class TakenName:
    """The wire when a run's name is taken: the create is refused, the GET shows
    what holds the name (a tenant's own object)."""

    def __init__(self, existing: dict[str, Any]) -> None:
        self.existing = existing

    async def create_run(self, kind: Any, namespace: str, body: Any) -> Any:
        raise ApiError(409, "AlreadyExists", "already exists")

    async def get_run(self, kind: Any, namespace: str, name: str) -> Any:
        return self.existing


async def test_an_object_holding_the_runs_name_that_the_index_would_not_take_is_no_run() -> None:
    """Pre-created under the run's name with a controller reference to the task's UID
    but another task name: adopting it would leave the run "in flight" for ever (a
    Forbid task would never fire again); it is a conflict on that tick instead."""
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task(None, task_object("alpha", "team-a", "uid-a"))
    plan_all(e)
    [placeholder] = creates(e)
    existing = run_object(A, placeholder.nominal)
    existing["metadata"]["ownerReferences"][0]["name"] = "not-alpha"
    e.executor._api = TakenName(existing)  # type: ignore[assignment]
    create = CreateRun(placeholder.name, placeholder.nominal, 0, Trigger.SCHEDULE, T0)
    await e.executor._create("uid-a", create, 0)
    assert creates(e) == []
    [failure] = e.tasks["uid-a"].failures
    assert failure.kind is FailureKind.CONFLICT


def test_objects_claiming_to_be_one_tasks_runs_are_kept_up_to_a_bound() -> None:
    """A tenant can create any number of Jobs that look like their task's runs; the
    index keeps MAX_INDEXED_RUNS of them, so a plan never walks an unbounded list."""
    clock = Clock(T0 + 0.5)
    e = engine(clock)
    e.observe_task(None, task_object("alpha", "team-a", "uid-a", {"schedule": "@hourly"}))
    for i in range(MAX_INDEXED_RUNS + 5):
        e.observe_run(RunKind.JOB, "ADDED", run_object(A, int(T0) - 3600 * (i + 1)))
    assert len(e.tasks["uid-a"].runs) == MAX_INDEXED_RUNS
    assert sample(e.metrics, "kron_runs_ignored_total", reason="too_many") == 5
