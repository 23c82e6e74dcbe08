"""Planner: successDeadlineSeconds sets Overdue when no run succeeds in time."""

from __future__ import annotations

from kron.api import ScheduledTaskStatus
from kron.planner import ObservedRun, Plan, RunPhase, plan
from support.planning import T0, run, spec, task

HOUR = 3600


def overdue(p: Plan) -> tuple[str, str, str]:
    c = next(c for c in p.status.conditions if c.type == "Overdue")
    return str(c.status), c.reason, c.message


def failing_hourly(**extra: object) -> tuple[object, Plan, tuple[ObservedRun, ...]]:
    s = spec(schedule="0 * * * *", successDeadlineSeconds=1800, **extra)
    first = plan(task(s), T0 + 0.5)
    failed = (run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 60),)
    return s, first, failed


def test_no_success_within_the_deadline_makes_the_task_overdue_at_that_instant() -> None:
    s, first, failed = failing_hourly()
    assert first.status.success_due_since is not None
    assert overdue(first)[0] == "False"
    assert first.wake_at == T0 + 1800  # woken at the deadline, before the next tick
    later = plan(task(s, status=first.status, runs=failed), T0 + 1800)
    status, reason, message = overdue(later)
    assert (status, reason) == ("True", "SuccessDeadlineExceeded")
    assert "overdue since 2026-01-01T00:30:00Z" in message
    assert [e.reason for e in later.events].count("Overdue") == 1
    again = plan(task(s, status=later.status, runs=failed), T0 + 1900)
    assert "Overdue" not in [e.reason for e in again.events]


def test_the_next_success_clears_it() -> None:
    s, first, failed = failing_hourly()
    late = plan(task(s, status=first.status, runs=failed), T0 + 1800)
    second = plan(task(s, status=late.status, runs=failed), T0 + HOUR + 0.5)
    assert overdue(second)[0] == "True"  # the 01:00 tick starts; nothing succeeded yet
    done = run(f"report-{T0 + HOUR}", T0 + HOUR, phase=RunPhase.SUCCEEDED, finished=T0 + HOUR + 30)
    cleared = plan(task(s, status=second.status, runs=(*failed, done)), T0 + HOUR + 31)
    assert overdue(cleared)[:2] == ("False", "WithinDeadline")
    assert cleared.status.success_due_since is None
    assert "OverdueCleared" in [e.reason for e in cleared.events]


def test_a_success_in_time_keeps_it_from_ever_being_overdue() -> None:
    s = spec(schedule="0 * * * *", successDeadlineSeconds=1800)
    first = plan(task(s), T0 + 0.5)
    done = (run(f"report-{T0}", T0, phase=RunPhase.SUCCEEDED, finished=T0 + 600),)
    ok = plan(task(s, status=first.status, runs=done), T0 + 601)
    assert ok.status.success_due_since is None
    assert plan(task(s, status=ok.status, runs=done), T0 + 1801).status.conditions
    assert overdue(plan(task(s, status=ok.status, runs=done), T0 + 1801))[0] == "False"


def test_forbid_skips_still_count() -> None:
    s = spec(schedule="0 * * * *", successDeadlineSeconds=1800, concurrencyPolicy="Forbid")
    status = ScheduledTaskStatus()
    hung = (run(f"report-{T0}", T0),)
    first = plan(task(s, status=status), T0 + 0.5)
    # The 00:00 run hangs; the 01:00 tick is skipped: overdue from 00:00 + 30 min.
    skipped = plan(task(s, status=first.status, runs=hung), T0 + HOUR + 0.5)
    assert skipped.status.counts.skipped == 1
    assert overdue(skipped)[0] == "True"


def test_never_overdue_while_suspended_and_ticks_then_are_not_awaited() -> None:
    s, first, failed = failing_hourly()
    paused = spec(schedule="0 * * * *", successDeadlineSeconds=1800, suspend=True)
    held = plan(task(paused, status=first.status, runs=failed, generation=2), T0 + 1900)
    assert overdue(held)[:2] == ("False", "Suspended")
    assert held.status.success_due_since is None
    resumed = plan(task(s, status=held.status, runs=failed, generation=3), T0 + 5 * HOUR + 10)
    assert overdue(resumed)[0] == "False"


def test_unset_deadline_removes_the_condition() -> None:
    _, first, failed = failing_hourly()
    off = plan(task(spec(schedule="0 * * * *"), status=first.status, runs=failed), T0 + 2000)
    assert not [c for c in off.status.conditions if c.type == "Overdue"]
    assert off.status.success_due_since is None


def test_excluded_ticks_are_not_awaited() -> None:
    s = spec(schedule="0 * * * *", successDeadlineSeconds=60, excludeSchedules=["* 0-5 * * *"])
    result = plan(task(s), T0 + 0.5)
    assert result.status.success_due_since is None
    assert overdue(plan(task(s, status=result.status), T0 + 120))[0] == "False"
