"""Planner: manual and backfill runs follow retryPolicy; retry names stay distinct."""

from __future__ import annotations

from kron.api import ActiveRun, PendingReason, Trigger
from kron.planner import RunPhase, plan
from kron.planner.timeutil import to_time
from kron.schedule import manual_retry_name, manual_run_name
from support.planning import T0, run, spec, task

RETRY = {"maxRetries": 2, "backoff": {"initialSeconds": 10}}


def test_a_failed_manual_run_is_retried_under_its_own_name() -> None:
    s = spec(schedule="0 12 * * *", retryPolicy=RETRY)
    ann = {"kron.dev/run-now": "deploy-1"}
    first = plan(task(s, annotations=ann), T0 + 5)
    name = manual_run_name("report", "deploy-1")
    assert [c.name for c in first.creates] == [name]
    failed = run(name, T0 + 5, trigger=Trigger.MANUAL, phase=RunPhase.FAILED, finished=T0 + 20)
    waiting = plan(task(s, status=first.status, runs=(failed,), annotations=ann), T0 + 21)
    (pending,) = waiting.status.pending
    assert (pending.reason, pending.trigger, pending.attempt) == (
        PendingReason.RETRY,
        Trigger.MANUAL,
        1,
    )
    retried = plan(task(s, status=waiting.status, runs=(failed,), annotations=ann), T0 + 30)
    (create,) = retried.creates
    assert create.name == manual_retry_name("report", name, 1) == f"{name}-r1"
    assert (create.trigger, create.attempt, create.nominal) == (Trigger.MANUAL, 1, T0 + 5)
    # A retry of a manual run never moves the schedule's cursor.
    assert retried.status.last_schedule_time is None


def test_retry_manual_runs_false_keeps_the_old_behaviour() -> None:
    s = spec(schedule="0 12 * * *", retryPolicy={**RETRY, "retryManualRuns": False})
    ann = {"kron.dev/run-now": "t"}
    first = plan(task(s, annotations=ann), T0 + 5)
    name = first.creates[0].name
    failed = run(name, T0 + 5, trigger=Trigger.MANUAL, phase=RunPhase.FAILED, finished=T0 + 9)
    done = plan(task(s, status=first.status, runs=(failed,), annotations=ann), T0 + 10)
    assert done.status.pending == [] and done.status.consecutive_failures == 1


def test_a_backfill_retry_keeps_its_trigger_and_its_second_retry_still_runs() -> None:
    s = spec(schedule="0 * * * *", retryPolicy=RETRY)
    nominal = T0 - 5 * 3600
    attempt0 = run(f"report-{nominal}", nominal, trigger=Trigger.BACKFILL, phase=RunPhase.FAILED)
    attempt0 = attempt0.__class__(**{**_fields(attempt0), "created": T0 + 10, "finished": T0 + 20})
    status = plan(task(s), T0 + 5).status
    status.active = []
    status.active = [
        ActiveRun(name=attempt0.name, kind=attempt0.kind, scheduled_time=to_time(nominal))
    ]
    waiting = plan(task(s, status=status, runs=(attempt0,)), T0 + 21)
    (pending,) = waiting.status.pending
    assert pending.trigger is Trigger.BACKFILL
    first_retry = plan(task(s, status=waiting.status, runs=(attempt0,)), T0 + 31)
    (create,) = first_retry.creates
    assert (create.name, create.trigger) == (f"report-{nominal}-r1", Trigger.BACKFILL)
    r1 = run(create.name, nominal, attempt=1, trigger=Trigger.BACKFILL, phase=RunPhase.FAILED)
    r1 = r1.__class__(**{**_fields(r1), "created": T0 + 31, "finished": T0 + 40})
    again = plan(task(s, status=first_retry.status, runs=(attempt0, r1)), T0 + 41)
    assert [p.attempt for p in again.status.pending] == [2]  # not cut by stopAtNextSchedule


def _fields(r):  # type: ignore[no-untyped-def]
    return {name: getattr(r, name) for name in r.__slots__}
