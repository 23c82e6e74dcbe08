"""What one task may cost: no backlog after a fix, saturating times, bounded work."""

from __future__ import annotations

from datetime import UTC, datetime

from kron.api import (
    ActiveRun,
    PendingReason,
    PendingRun,
    RunKind,
    RunResult,
    ScheduledTaskStatus,
    Trigger,
)
from kron.api.constants import MAX_ACTIVE_RUNS, MAX_PENDING
from kron.planner import RunPhase, invalid_plan, plan
from kron.planner.budget import Budget
from kron.planner.plan import DEFER_SECONDS
from kron.planner.requests import token_digest
from kron.planner.ticks import SCAN_LIMIT, START_CAP
from kron.planner.timeutil import EARLIEST, LATEST, to_time
from support.planning import T0, run, spec, task


def test_fixing_an_invalid_task_never_fires_the_ticks_before_the_fix() -> None:
    """A per-second task that was invalid for a day starts from the fix, not from its birth."""
    created = T0 - 86_400
    broken = invalid_plan(ScheduledTaskStatus(), 1, "InvalidSpec", "spec.x: bad", created).status
    fixed = plan(
        task(spec(schedule="* * * * * *"), status=broken, created=created, generation=2), T0
    )
    assert fixed.creates == []
    assert fixed.status.counts.missed == 0
    assert fixed.wake_at == T0 + 1
    after = plan(task(spec(schedule="* * * * * *"), status=fixed.status, generation=2), T0 + 1)
    assert [c.nominal for c in after.creates] == [T0 + 1]


def test_times_beyond_what_a_datetime_holds_saturate() -> None:
    assert to_time(-1e30) == EARLIEST
    assert to_time(float("nan")) == EARLIEST
    assert to_time(1e30) == LATEST
    assert to_time(253_402_318_799) == LATEST
    assert to_time(0.0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_a_queued_tick_with_the_longest_deadline_plans() -> None:
    s = spec(schedule="* * * * *", concurrencyPolicy="Queue", startingDeadlineSeconds=316_224_000)
    first = plan(task(s), T0)
    assert len(first.creates) == 1


# -- bounded work ------------------------------------------------------------------


def _steps_used(budget: Budget, start: int) -> int:
    return start - budget.steps


def test_catch_up_all_over_a_backlog_that_exclusions_cover_examines_a_bounded_number_of_ticks() -> (
    None
):
    """Found: 14 s of planning for a 30-day backlog of a per-second task excluded everywhere."""
    s = spec(schedule="* * * * * *", catchUpPolicy="All", excludeSchedules=["* * * * *"])
    status = plan(task(s, created=T0 - 1), T0 - 0.5).status
    budget = Budget(steps=10**9)
    result = plan(task(s, status=status, resumed_at=T0 + 30 * 86_400), T0 + 30 * 86_400, budget)
    assert _steps_used(budget, 10**9) <= SCAN_LIMIT + 1
    assert result.creates == []
    assert result.status.counts.excluded == SCAN_LIMIT
    assert result.status.last_schedule_time == to_time(T0 + 30 * 86_400)
    assert any("at least" in e.message for e in result.events)


def test_more_on_time_ticks_than_a_pass_starts_are_missed_as_overrun() -> None:
    s = spec(schedule="* * * * * *")
    status = plan(task(s, created=T0 - 1), T0 - 0.5).status
    # Dispatching all along (resumed before), yet 500 ticks due at once.
    result = plan(task(s, status=status, resumed_at=T0 - 1), T0 + 499.5)
    assert len(result.creates) == START_CAP
    assert [c.nominal for c in result.creates] == list(range(T0 + 400, T0 + 500))
    assert result.tallies[("missed", "Overrun")] == 400


def test_a_budget_that_runs_out_turns_counts_into_lower_bounds() -> None:
    s = spec(schedule="* * * * * *", catchUpPolicy="None")
    status = plan(task(s, created=T0 - 1), T0 - 0.5).status
    result = plan(task(s, status=status, resumed_at=T0 + 500), T0 + 500, Budget(steps=10))
    # The newest tick is on time (due at `now`) and starts; of the rest, 9 are
    # examined within the 10 steps, and the count says it is a lower bound.
    assert len(result.creates) == 1
    assert result.status.counts.missed == 9
    assert any(e.message.startswith("Missed at least 9") for e in result.events)


def test_a_backfill_before_1970_is_invalid_not_a_crash() -> None:
    s = spec(schedule="0 0 * * *", timeZone="America/New_York")
    result = plan(
        task(s, annotations={"kron.dev/backfill": "1800-01-01T00:00:00Z/1800-01-02T00:00:00Z"}),
        T0,
    )
    assert result.creates == []
    (event,) = [e for e in result.events if e.reason == "InvalidBackfill"]
    assert "before 1970-01-01" in event.message


def test_a_backfill_whose_counting_runs_out_of_budget_continues_on_the_next_pass() -> None:
    s = spec(schedule="0 0 29 2 *", timeZone="Australia/Lord_Howe")
    value = "1972-01-01T00:00:00Z/2024-12-31T00:00:00Z"
    tight = plan(task(s, annotations={"kron.dev/backfill": value}), T0, Budget(steps=3))
    assert tight.deferred
    assert tight.creates == []
    assert tight.status.handled_requests.backfill is None
    assert tight.wake_at == T0 + DEFER_SECONDS
    after = plan(task(s, status=tight.status, annotations={"kron.dev/backfill": value}), T0)
    assert len(after.creates) == 14  # 1972, 1976, ..., 2024
    assert after.status.handled_requests.backfill == token_digest(value)


# -- bounded status ------------------------------------------------------------------


def test_a_task_never_has_more_than_max_active_runs() -> None:
    s = spec(schedule="* * * * * *")
    status = plan(task(s, created=T0 - 1), T0 - 0.5).status
    runs = tuple(run(f"report-{T0 - 200 + i}", T0 - 200 + i) for i in range(MAX_ACTIVE_RUNS))
    result = plan(task(s, status=status, runs=runs, resumed_at=T0 - 1), T0 + 0.5)
    assert result.creates == []
    assert result.tallies[("skipped", "TooManyActive")] == 1
    assert result.status.history[0].result is RunResult.SKIPPED


def test_failed_runs_beyond_max_pending_fail_for_good_instead_of_queueing_a_retry() -> None:
    policy = {"maxRetries": 3, "stopAtNextSchedule": False, "backoff": {"initialSeconds": 3600}}
    s = spec(schedule="* * * * * *", retryPolicy=policy)
    status = plan(task(s, created=T0 - 1), T0 - 0.5).status
    waiting = [
        PendingRun(
            scheduled_time=to_time(T0 - 1000 + i),
            attempt=1,
            not_before=to_time(T0 + 3000),
            trigger=Trigger.RETRY,
            reason=PendingReason.RETRY,
        )
        for i in range(MAX_PENDING)
    ]
    failed = run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 0.2)
    status.pending = waiting
    status.active = [ActiveRun(name=f"report-{T0}", kind=RunKind.JOB, scheduled_time=to_time(T0))]
    result = plan(task(s, status=status, runs=(failed,), resumed_at=T0 - 1), T0 + 0.5)
    assert len(result.status.pending) == MAX_PENDING
    assert result.status.consecutive_failures == 1
    degraded = next(c for c in result.status.conditions if c.type == "Degraded")
    assert f"no retry: {MAX_PENDING} ticks are pending" in degraded.message


def test_ticks_before_1970_never_fire_whatever_the_task_claims() -> None:
    """Found by the fuzzer: a creation time before 1970 let a tick with a negative
    Unix time come due, and its run name could not be made."""
    s = spec(schedule="@at 1800-01-01T00:00:00Z")
    result = plan(task(s, created=-7_000_000_000.0, resumed_at=T0), T0)
    assert result.creates == []
    assert next(c for c in result.status.conditions if c.type == "Ready").reason == "Completed"


def test_a_look_ahead_cut_short_by_the_budget_is_completed_a_second_later() -> None:
    """The budget covers the upcoming list too (found: 30-170 ms for the worst
    exclusions): cut short, the pass says so and the task comes back after a pause."""
    s = spec(schedule="0 0 1 1 *", excludeSchedules=["* * * * *"])
    expired = Budget(expired=lambda: True)
    result = plan(task(s), T0, expired)
    assert result.deferred
    assert result.status.upcoming_schedule_times == []
    assert result.wake_at == T0 + DEFER_SECONDS
