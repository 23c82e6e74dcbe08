"""A new leader plans at once only the tasks that may have work now."""

from __future__ import annotations

from typing import Any

from kron.api import RunKind
from kron.engine import engine as engine_module
from kron.engine.takeover import TAKEOVER_CAP, first_plan_at
from kron.k8s.runs import TaskRef
from kron.planner.requests import token_digest
from kron.planner.timeutil import rfc3339
from support.engine import T0, Clock, engine, run_object, task_object

A = TaskRef("team-a", "alpha", "uid-a")
NEXT = T0 + 300  # within TAKEOVER_CAP


def current(**changes: Any) -> dict[str, Any]:
    """A status as kron writes it for generation 1, next fire in five minutes."""
    status: dict[str, Any] = {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "True", "reason": "Scheduled"}],
        "nextScheduleTime": rfc3339(NEXT),
        "active": [],
        "pending": [],
        "handledRequests": {},
    }
    status.update(changes)
    return status


def first(status: dict[str, Any], **task: Any) -> float:
    e = engine(Clock(T0))
    e.observe_task(
        None,
        task_object(A.name, A.namespace, A.uid, {"schedule": "0 * * * *"}, status=status, **task),
    )
    return first_plan_at(e.tasks[A.uid], T0)


def test_a_task_whose_status_is_current_waits_for_its_next_fire_time() -> None:
    assert first(current()) == NEXT


def test_the_wait_is_capped() -> None:
    far = current(nextScheduleTime=rfc3339(T0 + 86_400))
    assert first(far) == T0 + TAKEOVER_CAP


def test_a_pending_retry_comes_first() -> None:
    retry = {
        "scheduledTime": rfc3339(T0 - 60),
        "notBefore": rfc3339(T0 + 30),
        "trigger": "retry",
        "reason": "Retry",
    }
    assert first(current(pending=[retry])) == T0 + 30


def test_tasks_that_may_have_work_now_are_planned_now() -> None:
    assert first(current(observedGeneration=0)) == T0  # spec changed since
    assert first(current(nextScheduleTime=rfc3339(T0 - 5))) == T0  # a tick came while down
    assert first(current(conditions=[])) == T0  # never planned
    suspended = [{"type": "Ready", "status": "True", "reason": "Suspended"}]
    assert first(current(conditions=suspended)) == T0
    assert first(current(), annotations={"kron.dev/run-now": "t1"}) == T0
    assert (
        first(
            current(handledRequests={"runNow": token_digest("t1")}),
            annotations={"kron.dev/run-now": "t1"},
        )
        == NEXT
    )
    assert first(current(handledRequests={"backfillCursor": rfc3339(T0 - 10)})) == T0
    assert first({"conditions": "garbage"}) == T0


def test_a_recorded_run_that_ended_while_nobody_led_is_planned_now() -> None:
    e = engine(Clock(T0))
    active = [{"name": f"alpha-{int(T0) - 60}", "kind": "Job", "scheduledTime": rfc3339(T0 - 60)}]
    e.observe_task(
        None,
        task_object(
            A.name, A.namespace, A.uid, {"schedule": "0 * * * *"}, status=current(active=active)
        ),
    )
    job = run_object(A, int(T0) - 60)
    e.observe_run(RunKind.JOB, None, job)
    assert first_plan_at(e.tasks[A.uid], T0) == NEXT  # still running: its end is an event
    job["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    job["metadata"]["resourceVersion"] = "9"
    e.observe_run(RunKind.JOB, "MODIFIED", job)
    assert first_plan_at(e.tasks[A.uid], T0) == T0


def test_a_task_waiting_for_a_success_is_planned_now() -> None:
    """Its success deadline may come due before its next fire time."""
    assert first(current(successDueSince=rfc3339(T0 - 600))) == T0


def test_a_task_whose_calendar_changed_while_standing_by_is_planned_now() -> None:
    """Its persisted status was written before the edit and says nothing of it: the
    tick the edit brings back (a holiday removed) may be due before the status's
    next fire time."""
    e = engine(Clock(T0))
    e.follow()  # a standby
    spec = {"schedule": "0 * * * *", "excludeCalendars": ["holidays"]}
    e.observe_task(None, task_object(A.name, A.namespace, A.uid, spec, status=current()))
    assert first_plan_at(e.tasks[A.uid], T0) == NEXT
    e.calendars.observe(
        "ADDED",
        {
            "apiVersion": "kron.dev/v1alpha1",
            "kind": "Calendar",
            "metadata": {"name": "holidays", "namespace": A.namespace, "resourceVersion": "1"},
            "spec": {"entries": [{"date": "--12-25", "description": "Christmas"}]},
        },
    )
    assert first_plan_at(e.tasks[A.uid], T0) == T0


def test_a_new_leader_sets_first_plan_times_a_turns_budget_at_a_time(monkeypatch: Any) -> None:
    """At 100,000 tasks deciding every first plan time takes seconds: it is spread over
    turns (the event loop renews the Lease between them), and a wake an event asked for
    meanwhile is kept."""
    monkeypatch.setattr(engine_module, "TURN_BUDGET", 0.0)  # one task per turn
    e = engine(Clock(T0))
    refs = [TaskRef("team-a", f"t{i}", f"uid-{i}") for i in range(3)]
    for ref in refs:
        e.observe_task(
            None,
            task_object(
                ref.name, ref.namespace, ref.uid, {"schedule": "0 * * * *"}, status=current()
            ),
        )
    e.follow()
    e.lead()
    assert all(e.timers.get(ref.uid) is None for ref in refs)  # nothing decided yet
    e.timers.set_earlier(refs[2].uid, T0 + 1)  # an event since `lead`
    assert e.turn(T0) is True
    assert e.timers.get(refs[0].uid) == NEXT
    assert e.timers.get(refs[1].uid) is None
    assert e.turn(T0) is True
    assert e.turn(T0) is False
    assert e.timers.get(refs[1].uid) == NEXT
    assert e.timers.get(refs[2].uid) == T0 + 1
