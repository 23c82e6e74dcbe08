"""Replace and pending retries: which a newer tick supersedes, and under which name.

A retry of the schedule's own tick gives way to a newer tick's run. Retries of backfill
and manual runs are not part of the schedule's stream: their old nominal times say
nothing about it, so they survive a newer tick and start when due; only a scheduled
run created after they were due supersedes them (had they started, it replaced them).
"""

from __future__ import annotations

import dataclasses

from kron.api import PendingReason, PendingRun, ScheduledTaskStatus, Trigger
from kron.planner import ObservedRun, Plan, RunPhase, plan
from kron.planner.timeutil import to_time
from kron.schedule import manual_retry_name, manual_run_name, run_name
from support.planning import T0, run, spec, task

HOUR = 3600
S = spec(
    schedule="0 * * * *",
    concurrencyPolicy="Replace",
    retryPolicy={"maxRetries": 3, "backoff": {"initialSeconds": 60}, "stopAtNextSchedule": False},
)


def _pending(
    nominal: int, trigger: Trigger, not_before: float, name: str | None = None
) -> PendingRun:
    return PendingRun(
        name=name,
        scheduled_time=to_time(nominal),
        attempt=1,
        not_before=to_time(not_before),
        trigger=trigger,
        reason=PendingReason.RETRY,
    )


def _status(entry: PendingRun) -> ScheduledTaskStatus:
    first = plan(task(S), T0 + 0.5).status  # schedule hash, floor and conditions
    first.pending = [entry]
    first.active = []
    first.last_schedule_time = to_time(T0 + HOUR)
    return first


def _newer_tick(created: float) -> ObservedRun:
    return dataclasses.replace(run(f"report-{T0 + HOUR}", T0 + HOUR), created=created)


def _dropped(result: Plan, failed: str) -> None:
    """The retry did not start and was recorded as the failure of run `failed`."""
    assert result.creates == [] and result.status.pending == []
    degraded = next(c for c in result.status.conditions if c.type == "Degraded")
    assert degraded.message.startswith(f"run {failed} failed: retry 1 dropped")


def test_a_backfill_retry_survives_a_newer_ticks_run_under_replace() -> None:
    old = T0 - 30 * 86_400  # a backfilled tick a month back
    retry_due = T0 + HOUR + 600
    status = _status(_pending(old, Trigger.BACKFILL, retry_due))
    newer = _newer_tick(created=T0 + HOUR)  # created before the retry was due
    result = plan(task(S, status=status, runs=(newer,)), retry_due + 0.5)
    assert [(c.name, c.attempt, c.trigger) for c in result.creates] == [
        (run_name("report", old, 1), 1, Trigger.BACKFILL)
    ]
    assert result.status.pending == [] and result.status.consecutive_failures == 0


def test_a_manual_retry_survives_a_newer_ticks_run_under_replace() -> None:
    first = manual_run_name("report", "go")
    name = manual_retry_name("report", first, 1)
    retry_due = T0 + HOUR + 600
    status = _status(_pending(T0 + 100, Trigger.MANUAL, retry_due, name=name))
    newer = _newer_tick(created=T0 + HOUR)
    result = plan(task(S, status=status, runs=(newer,)), retry_due + 0.5)
    assert [(c.name, c.trigger) for c in result.creates] == [(name, Trigger.MANUAL)]


def test_a_manual_retry_a_newer_tick_replaced_is_recorded_under_its_own_name() -> None:
    # The retry was due before the newer tick's run was created: had the lost status
    # started it, that run replaced it. It is not started again, and the failure
    # names the manual run that failed, not a run of the schedule.
    first = manual_run_name("report", "go")
    status = _status(
        _pending(T0 + 100, Trigger.MANUAL, T0 + 200, name=manual_retry_name("report", first, 1))
    )
    newer = _newer_tick(created=T0 + HOUR)
    _dropped(plan(task(S, status=status, runs=(newer,)), T0 + HOUR + 5.5), first)


def test_a_retry_of_an_older_tick_still_gives_way_to_a_newer_tick() -> None:
    status = _status(_pending(T0, Trigger.RETRY, T0 + HOUR + 600))
    newer = _newer_tick(created=T0 + HOUR)
    _dropped(plan(task(S, status=status, runs=(newer,)), T0 + HOUR + 600.5), f"report-{T0}")


def test_a_backfill_retry_starting_under_replace_leaves_the_newer_run_alone() -> None:
    old = T0 - 86_400
    status = _status(_pending(old, Trigger.BACKFILL, T0 + HOUR + 60))
    newer = _newer_tick(created=T0 + HOUR)
    result = plan(task(S, status=status, runs=(newer,)), T0 + HOUR + 60.5)
    assert result.deletes == []
    assert {r.name for r in result.status.active} == {newer.name, run_name("report", old, 1)}
    assert newer.phase is RunPhase.ACTIVE
