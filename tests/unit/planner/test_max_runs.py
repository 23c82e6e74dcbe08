"""Planner: maxRuns completes a task after N scheduled runs, exactly, whatever is lost."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from kron.api import ScheduledTaskStatus, Trigger
from kron.planner import ObservedRun, RunPhase, plan
from kron.planner.records import Plan
from support.planning import T0, spec, task


def confirm(created: Plan, runs: dict[str, ObservedRun], *, phase: RunPhase) -> None:
    for c in created.creates:
        runs[c.name] = ObservedRun(
            name=c.name,
            kind=task(spec()).spec.kind,
            nominal=c.nominal,
            attempt=c.attempt,
            trigger=c.trigger,
            phase=phase,
            uid=f"uid-{c.name}",
            created=c.fire_at,
            finished=c.fire_at + 1 if phase is not RunPhase.ACTIVE else None,
            scheduled_run=c.scheduled_run,  # its kron.dev/scheduled-run annotation
        )


def ready(p: Plan) -> tuple[str, str]:
    c = next(c for c in p.status.conditions if c.type == "Ready")
    return str(c.status), c.reason


def test_task_completes_after_max_runs_scheduled_runs() -> None:
    s = spec(maxRuns=3)
    status, runs = ScheduledTaskStatus(), {}
    names = []
    for minute in range(6):
        result = plan(task(s, status=status, runs=tuple(runs.values())), T0 + 60 * minute + 0.5)
        names += [c.name for c in result.creates]
        confirm(result, runs, phase=RunPhase.SUCCEEDED)
        status = result.status
    assert len(names) == 3
    assert ready(result) == ("True", "Completed")
    assert "maxRuns=3" in next(c.message for c in status.conditions if c.type == "Ready")
    assert status.scheduled_runs == 3 and status.next_schedule_time is None
    assert status.upcoming_schedule_times == []


def test_upcoming_times_show_only_the_runs_left() -> None:
    result = plan(task(spec(maxRuns=2)), T0 + 0.5)
    assert len(result.creates) == 1
    assert len(result.status.upcoming_schedule_times) == 1


def test_retries_manual_and_backfill_runs_are_not_counted() -> None:
    s = spec(maxRuns=2, retryPolicy={"maxRetries": 2, "backoff": {"initialSeconds": 1}})
    first = plan(task(s), T0 + 0.5)
    runs: dict[str, ObservedRun] = {}
    confirm(first, runs, phase=RunPhase.FAILED)
    retry = plan(task(s, status=first.status, runs=tuple(runs.values())), T0 + 3)
    assert [c.trigger for c in retry.creates] == [Trigger.RETRY]
    confirm(retry, runs, phase=RunPhase.SUCCEEDED)
    manual = plan(
        task(
            s,
            status=retry.status,
            runs=tuple(runs.values()),
            annotations={"kron.dev/run-now": "x"},
        ),
        T0 + 4,
    )
    confirm(manual, runs, phase=RunPhase.SUCCEEDED)
    after = plan(task(s, status=manual.status, runs=tuple(runs.values())), T0 + 5)
    assert after.status.scheduled_runs == 1
    assert ready(after) == ("True", "Scheduled")
    second = plan(task(s, status=after.status, runs=tuple(runs.values())), T0 + 60.5)
    assert [c.nominal for c in second.creates] == [T0 + 60]


def test_a_lost_status_never_lets_an_extra_run_start() -> None:
    s = spec(maxRuns=2)
    base = plan(task(s), T0 - 10)  # persisted: counting since creation, nothing run
    runs: dict[str, ObservedRun] = {}
    one = plan(task(s, status=base.status), T0 + 0.5)
    confirm(one, runs, phase=RunPhase.SUCCEEDED)
    two = plan(task(s, status=one.status, runs=tuple(runs.values())), T0 + 60.5)
    confirm(two, runs, phase=RunPhase.SUCCEEDED)
    # The operator crashes: the last persisted status is from before both runs.
    restarted = plan(task(s, status=base.status, runs=tuple(runs.values())), T0 + 120.5)
    assert restarted.creates == []
    assert restarted.status.scheduled_runs == 2
    assert ready(restarted) == ("True", "Completed")


def test_runs_confirmed_out_of_order_are_all_counted() -> None:
    s = spec(schedule="*/10 * * * * *", maxRuns=5, catchUpPolicy="All")
    base = plan(task(s), T0 - 1)
    burst = plan(task(s, status=base.status, resumed_at=T0 + 25), T0 + 25)  # 3 due at once
    assert len(burst.creates) == 3
    newest = burst.creates[-1]
    runs = {
        newest.name: ObservedRun(
            name=newest.name, kind=s.kind, nominal=newest.nominal, trigger=newest.trigger
        )
    }
    for c in burst.creates[:-1]:  # still in flight
        runs[c.name] = ObservedRun(
            name=c.name, kind=s.kind, nominal=c.nominal, trigger=c.trigger, in_flight=True
        )
    mid = plan(task(s, status=burst.status, runs=tuple(runs.values())), T0 + 26)
    assert mid.status.scheduled_runs == 0  # waits for the older creates
    for c in burst.creates[:-1]:
        runs[c.name] = replace(runs[c.name], in_flight=False)
    done = plan(task(s, status=mid.status, runs=tuple(runs.values())), T0 + 27)
    assert done.status.scheduled_runs == 3


@settings(max_examples=60)
@given(st.integers(1, 6), st.integers(0, 2**32), st.floats(0.0, 0.6))
def test_never_more_scheduled_runs_than_max_runs_through_crashes(
    limit: int, seed: int, loss: float
) -> None:
    """Random lost status writes and crashes (intended status replaced by the last
    persisted one): at most `limit` scheduled runs ever start, and exactly `limit` do."""
    rng = random.Random(seed)
    s = spec(schedule="*/5 * * * * *", maxRuns=limit)
    durable = plan(task(s), T0 - 1).status
    intended = durable
    runs: dict[str, ObservedRun] = {}
    started: set[int] = set()
    now = float(T0)
    resumed = T0 - 1.0
    for _ in range(80):
        now += 5.0
        if rng.random() < loss / 3:
            intended, resumed = durable, now  # crash: memory is gone
        result = plan(task(s, status=intended, runs=tuple(runs.values()), resumed_at=resumed), now)
        for c in result.creates:
            if c.trigger in (Trigger.SCHEDULE, Trigger.CATCH_UP):
                assert c.nominal not in started
                started.add(c.nominal)
        confirm(result, runs, phase=RunPhase.SUCCEEDED)
        intended = result.status
        if rng.random() >= loss:
            durable = intended
    assert len(started) == limit


def test_a_run_replaced_before_the_status_counting_it_was_written_still_counts() -> None:
    """Replace deletes at once; the status counting the replaced run is gathered into
    a later write. A crash in between loses that status, and the run is gone: the
    run that replaced it carries its own number in the count, so maxRuns holds."""
    s = spec(maxRuns=2, concurrencyPolicy="Replace")
    first = plan(task(s), T0 + 0.5)
    persisted = first.status  # written: the first run is in flight, nothing counted
    assert [c.scheduled_run for c in first.creates] == [1]
    runs: dict[str, ObservedRun] = {}
    confirm(first, runs, phase=RunPhase.ACTIVE)
    second = plan(task(s, status=persisted, runs=tuple(runs.values())), T0 + 60.5)
    assert [d.name for d in second.deletes] == [f"report-{T0}"]
    assert [c.scheduled_run for c in second.creates] == [2]
    # Crash: `second.status` is lost, the replaced run is deleted; the new leader
    # finds the first status and only the second run.
    runs = {}
    confirm(second, runs, phase=RunPhase.ACTIVE)
    after = plan(task(s, status=persisted, runs=tuple(runs.values())), T0 + 120.5)
    assert after.creates == []
    assert after.status.scheduled_runs == 2
    assert after.status.upcoming_schedule_times == []
    later = plan(task(s, status=after.status, runs=tuple(runs.values())), T0 + 180.5)
    assert later.creates == []
