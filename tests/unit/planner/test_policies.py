"""Planner: concurrency, retries, failure suspension, suspend, history limits."""

from __future__ import annotations

from kron.api import ConditionStatus, PendingReason, RunResult, ScheduledTaskStatus, Trigger
from kron.planner import (
    CreateFailure,
    DeleteReason,
    FailureKind,
    Plan,
    RunPhase,
    invalid_plan,
    plan,
)
from kron.planner.timeutil import to_time
from support.planning import T0, run, spec, task


def condition(status: ScheduledTaskStatus, type_: str) -> tuple[str, str]:
    c = next(c for c in status.conditions if c.type == type_)
    return str(c.status), c.reason


def fired(s, now: float) -> Plan:  # type: ignore[no-untyped-def]
    return plan(task(s), now)


# -- concurrency -----------------------------------------------------------------


def test_allow_starts_a_run_while_another_is_active() -> None:
    s = spec()
    first = fired(s, T0 + 0.1)
    nxt = plan(task(s, status=first.status, runs=(run(f"report-{T0}", T0),)), T0 + 60.1)
    assert [c.nominal for c in nxt.creates] == [T0 + 60]
    assert len(nxt.status.active) == 2


def test_forbid_skips_a_tick_while_a_run_is_active() -> None:
    s = spec(concurrencyPolicy="Forbid")
    first = fired(s, T0 + 0.1)
    nxt = plan(task(s, status=first.status, runs=(run(f"report-{T0}", T0),)), T0 + 60.1)
    assert nxt.creates == []
    assert nxt.status.counts.skipped == 1
    assert nxt.tallies == {("skipped", "Forbid"): 1}
    assert nxt.status.history[0].result is RunResult.SKIPPED
    assert any(e.reason == "Skipped" and "Forbid" in e.message for e in nxt.events)
    assert nxt.status.last_schedule_time == to_time(T0 + 60)


def test_replace_deletes_the_active_run_and_starts_the_new_one() -> None:
    s = spec(concurrencyPolicy="Replace")
    first = fired(s, T0 + 0.1)
    nxt = plan(task(s, status=first.status, runs=(run(f"report-{T0}", T0),)), T0 + 60.1)
    assert [(d.name, d.reason) for d in nxt.deletes] == [(f"report-{T0}", DeleteReason.REPLACED)]
    assert [c.nominal for c in nxt.creates] == [T0 + 60]
    assert [a.name for a in nxt.status.active] == [f"report-{T0 + 60}"]
    assert any(e.reason == "Replaced" for e in nxt.events)


def test_queue_holds_one_tick_and_starts_it_when_the_active_run_ends() -> None:
    s = spec(concurrencyPolicy="Queue")
    first = fired(s, T0 + 0.1)
    active = run(f"report-{T0}", T0)
    queued = plan(task(s, status=first.status, runs=(active,)), T0 + 60.1)
    assert queued.creates == []
    assert [(p.reason, p.scheduled_time) for p in queued.status.pending] == [
        (PendingReason.QUEUED, to_time(T0 + 60))
    ]
    finished = run(f"report-{T0}", T0, phase=RunPhase.SUCCEEDED, finished=T0 + 75)
    started = plan(task(s, status=queued.status, runs=(finished,)), T0 + 75.2)
    assert [(c.name, c.nominal) for c in started.creates] == [(f"report-{T0 + 60}", T0 + 60)]
    assert started.status.pending == []


def test_queue_keeps_only_the_newest_tick() -> None:
    s = spec(concurrencyPolicy="Queue")
    first = fired(s, T0 + 0.1)
    active = (run(f"report-{T0}", T0),)
    one = plan(task(s, status=first.status, runs=active), T0 + 60.1)
    two = plan(task(s, status=one.status, runs=active), T0 + 120.1)
    assert [p.scheduled_time for p in two.status.pending] == [to_time(T0 + 120)]
    assert two.status.counts.skipped == 1


def test_queued_tick_past_its_deadline_is_missed() -> None:
    s = spec(concurrencyPolicy="Queue", startingDeadlineSeconds=20)
    first = fired(s, T0 + 0.1)
    queued = plan(task(s, status=first.status, runs=(run(f"report-{T0}", T0),)), T0 + 60.1)
    assert queued.wake_at == T0 + 80
    done = run(f"report-{T0}", T0, phase=RunPhase.SUCCEEDED, finished=T0 + 85)
    late = plan(task(s, status=queued.status, runs=(done,)), T0 + 85.1)
    assert late.creates == []
    assert late.status.counts.missed == 1


# -- failures and retries --------------------------------------------------------


def test_failed_run_is_retried_after_backoff_with_a_new_name() -> None:
    s = spec(schedule="0 * * * *", retryPolicy={"maxRetries": 2, "backoff": {"initialSeconds": 30}})
    first = fired(s, T0 + 0.1)
    failed = run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 10, message="exit 1")
    waiting = plan(task(s, status=first.status, runs=(failed,)), T0 + 10.1)
    assert waiting.creates == []
    assert [(p.reason, p.attempt, p.not_before) for p in waiting.status.pending] == [
        (PendingReason.RETRY, 1, to_time(T0 + 40))
    ]
    assert waiting.wake_at == T0 + 40
    assert any(e.reason == "Retrying" for e in waiting.events)
    assert waiting.status.consecutive_failures == 0
    retried = plan(task(s, status=waiting.status, runs=(failed,)), T0 + 40.01)
    assert [(c.name, c.attempt, c.trigger) for c in retried.creates] == [
        (f"report-{T0}-r1", 1, Trigger.RETRY)
    ]
    assert retried.status.counts.retried == 1


def test_backoff_grows_by_the_multiplier_up_to_the_maximum() -> None:
    policy = {"maxRetries": 5, "backoff": {"initialSeconds": 10, "multiplier": 3, "maxSeconds": 50}}
    s = spec(schedule="0 0 * * *", retryPolicy=policy)
    status = fired(s, T0 + 0.1).status
    runs: list = []  # type: ignore[type-arg]
    delays = []
    clock = T0 + 1000.0
    for attempt in range(4):
        name = f"report-{T0}" + (f"-r{attempt}" if attempt else "")
        trigger = Trigger.RETRY if attempt else Trigger.SCHEDULE
        runs.append(
            run(name, T0, attempt=attempt, trigger=trigger, phase=RunPhase.FAILED, finished=clock)
        )
        waiting = plan(task(s, status=status, runs=tuple(runs)), clock + 0.1)
        retry_at = waiting.status.pending[0].not_before
        assert retry_at is not None
        delays.append(retry_at.timestamp() - clock)
        started = plan(task(s, status=waiting.status, runs=tuple(runs)), retry_at.timestamp())
        assert [c.attempt for c in started.creates] == [attempt + 1]
        status = started.status
        clock = retry_at.timestamp() + 1
    assert delays == [10, 30, 50, 50]


def test_retry_is_dropped_when_the_next_tick_comes_first() -> None:
    s = spec(retryPolicy={"maxRetries": 3, "backoff": {"initialSeconds": 50}})
    first = fired(s, T0 + 0.1)
    failed = run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 20)
    result = plan(task(s, status=first.status, runs=(failed,)), T0 + 20.1)
    assert result.status.pending == []
    assert result.status.consecutive_failures == 1
    assert condition(result.status, "Degraded") == ("True", "RunFailed")


def test_exhausted_retries_count_one_failure_and_mark_degraded() -> None:
    s = spec(schedule="0 * * * *", retryPolicy={"maxRetries": 1, "backoff": {"initialSeconds": 5}})
    status = fired(s, T0 + 0.1).status
    f0 = run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 1)
    status = plan(task(s, status=status, runs=(f0,)), T0 + 1.1).status
    status = plan(task(s, status=status, runs=(f0,)), T0 + 6.1).status
    f1 = run(
        f"report-{T0}-r1",
        T0,
        attempt=1,
        trigger=Trigger.RETRY,
        phase=RunPhase.FAILED,
        finished=T0 + 8,
    )
    result = plan(task(s, status=status, runs=(f0, f1)), T0 + 8.1)
    assert result.status.consecutive_failures == 1
    assert result.status.counts.failed == 2
    assert condition(result.status, "Degraded") == ("True", "RunFailed")
    assert any(e.reason == "Failed" for e in result.events)


def test_success_clears_the_failure_streak_and_degraded() -> None:
    s = spec()
    status = fired(s, T0 + 0.1).status
    status = plan(
        task(
            s,
            status=status,
            runs=(run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 1),),
        ),
        T0 + 60.1,
    ).status
    assert status.consecutive_failures == 1
    ok = run(f"report-{T0 + 60}", T0 + 60, phase=RunPhase.SUCCEEDED, finished=T0 + 61)
    result = plan(task(s, status=status, runs=(ok,)), T0 + 61.1)
    assert result.status.consecutive_failures == 0
    assert condition(result.status, "Degraded") == ("False", "RunSucceeded")
    assert result.status.last_successful_time == to_time(T0 + 61)


def _fail_streak(s, count: int) -> ScheduledTaskStatus:  # type: ignore[no-untyped-def]
    status = ScheduledTaskStatus()
    runs = []
    for i in range(count):
        nominal = T0 + 60 * i
        status = plan(task(s, status=status, runs=tuple(runs)), nominal + 0.1).status
        runs.append(run(f"report-{nominal}", nominal, phase=RunPhase.FAILED, finished=nominal + 1))
        status = plan(task(s, status=status, runs=tuple(runs)), nominal + 1.1).status
    return status


def test_too_many_failures_stops_firing_until_resumed() -> None:
    s = spec(suspendAfterFailures=2)
    status = _fail_streak(s, 2)
    assert condition(status, "Ready") == ("False", "TooManyFailures")
    held = plan(task(s, status=status), T0 + 600.1)
    assert held.creates == []
    assert held.wake_at is None
    resumed = plan(task(s, status=status, annotations={"kron.dev/resume": "a"}), T0 + 600.1)
    assert condition(resumed.status, "Ready") == ("True", "Scheduled")
    assert resumed.status.consecutive_failures == 0
    # Ticks that passed while held are skipped, not caught up.
    assert resumed.creates == []
    assert resumed.status.counts.skipped >= 1


def test_a_spec_change_clears_too_many_failures() -> None:
    s = spec(suspendAfterFailures=1)
    status = _fail_streak(s, 1)
    assert condition(status, "Ready") == ("False", "TooManyFailures")
    changed = plan(task(spec(suspendAfterFailures=3), status=status, generation=2), T0 + 300.1)
    assert condition(changed.status, "Ready") == ("True", "Scheduled")


def test_suspended_task_fires_nothing_and_skips_missed_ticks_on_resume() -> None:
    status = plan(task(spec()), T0 - 1).status
    held = plan(task(spec(suspend=True), status=status, generation=2), T0 + 120.5)
    assert held.creates == []
    assert condition(held.status, "Ready") == ("True", "Suspended")
    assert held.status.next_schedule_time is None
    resumed = plan(task(spec(), status=held.status, generation=3), T0 + 150)
    assert resumed.creates == []
    assert resumed.status.counts.skipped == 3
    assert resumed.wake_at == T0 + 180


# -- executor outcomes -------------------------------------------------------------


def test_expired_create_is_counted_missed() -> None:
    first = fired(spec(), T0 + 0.1)
    failure = CreateFailure(
        f"report-{T0}", T0, 0, Trigger.SCHEDULE, FailureKind.EXPIRED, "connection refused", T0 + 60
    )
    result = plan(task(spec(), status=first.status, failures=(failure,)), T0 + 60.0)
    assert result.status.counts.missed == 1
    assert f"report-{T0}" not in [a.name for a in result.status.active]


def test_rejected_create_is_a_failed_run() -> None:
    first = fired(spec(), T0 + 0.1)
    failure = CreateFailure(
        f"report-{T0}",
        T0,
        0,
        Trigger.SCHEDULE,
        FailureKind.REJECTED,
        "spec.template: invalid",
        T0 + 0.2,
    )
    result = plan(task(spec(), status=first.status, failures=(failure,)), T0 + 0.3)
    assert result.status.counts.failed == 1
    assert result.status.consecutive_failures == 1
    assert condition(result.status, "Degraded") == ("True", "RunFailed")


def test_name_taken_by_another_owner_is_reported_as_a_conflict() -> None:
    first = fired(spec(), T0 + 0.1)
    failure = CreateFailure(
        f"report-{T0}",
        T0,
        0,
        Trigger.SCHEDULE,
        FailureKind.CONFLICT,
        "job exists, not owned",
        T0 + 0.2,
    )
    result = plan(task(spec(), status=first.status, failures=(failure,)), T0 + 0.3)
    assert condition(result.status, "Degraded") == ("True", "NameConflict")


def test_run_deleted_while_active_is_recorded_failed() -> None:
    first = fired(spec(), T0 + 0.1)
    result = plan(task(spec(), status=first.status, runs=()), T0 + 5)
    assert result.status.history[0].result is RunResult.FAILED
    assert result.status.history[0].message == "deleted before it finished"
    assert result.status.active == []


# -- history ---------------------------------------------------------------------------


def test_history_limits_delete_the_oldest_finished_runs() -> None:
    s = spec(successfulRunsHistoryLimit=1, failedRunsHistoryLimit=1)
    runs = (
        run("report-1", T0 - 180, phase=RunPhase.SUCCEEDED, finished=T0 - 170),
        run("report-2", T0 - 120, phase=RunPhase.SUCCEEDED, finished=T0 - 110),
        run("report-3", T0 - 60, phase=RunPhase.FAILED, finished=T0 - 50),
        run("report-4", T0 - 30, phase=RunPhase.FAILED, finished=T0 - 20),
        run("report-5", T0 - 10),
    )
    result = plan(task(s, runs=runs), T0 - 5)
    assert sorted(d.name for d in result.cleanup) == ["report-1", "report-3"]
    assert {d.reason for d in result.cleanup} == {DeleteReason.HISTORY_LIMIT}
    assert result.deletes == []


def test_condition_transition_time_moves_only_when_status_flips() -> None:
    s = spec()
    a = plan(task(s), T0 + 0.1).status
    b = plan(task(s, status=a, runs=(run(f"report-{T0}", T0),)), T0 + 60.1).status
    ready_a = next(c for c in a.conditions if c.type == "Ready")
    ready_b = next(c for c in b.conditions if c.type == "Ready")
    assert ready_a.last_transition_time == ready_b.last_transition_time
    assert ready_b.status is ConditionStatus.TRUE


def test_stalled_is_true_only_while_the_task_cannot_progress() -> None:
    healthy = plan(task(spec()), T0 + 0.1).status
    assert condition(healthy, "Stalled") == ("False", "Firing")
    stopped = _fail_streak(spec(suspendAfterFailures=1), 1)
    assert condition(stopped, "Stalled") == ("True", "TooManyFailures")
    suspended = plan(task(spec(suspend=True)), T0 + 0.1).status
    assert condition(suspended, "Stalled")[0] == "False"  # suspending is a choice, not a failure


def test_invalid_spec_is_stalled_for_kstatus() -> None:
    result = invalid_plan(ScheduledTaskStatus(), 3, "InvalidTimeZone", "timeZone: unknown", T0)
    assert condition(result.status, "Ready") == ("False", "InvalidTimeZone")
    assert condition(result.status, "Stalled") == ("True", "InvalidTimeZone")
    assert [e.reason for e in result.events] == ["InvalidTimeZone"]
    again = invalid_plan(result.status, 3, "InvalidTimeZone", "timeZone: unknown", T0 + 5)
    assert again.events == []


def test_a_run_the_status_never_recorded_is_counted_after_a_takeover_not_retried() -> None:
    """A leader gathers progress into one status write a few seconds later; one that
    stopped before writing leaves runs the status does not list. The next leader
    still counts the failed one and marks the task Degraded, but does not retry it:
    the lost status may have started that retry already."""
    s = spec(schedule="* * * * *", retryPolicy={"maxRetries": 1, "backoff": {"initialSeconds": 5}})
    persisted = plan(task(s, created=T0 - 90), T0 - 59.9).status  # cursor T0 - 60
    persisted.active = []  # that run was recorded finished meanwhile
    failed = run(f"report-{T0}", T0, phase=RunPhase.FAILED, finished=T0 + 3, message="exit 1")
    result = plan(
        task(s, status=persisted, runs=(failed,), created=T0 - 90, resumed_at=T0 + 10), T0 + 10
    )
    assert result.status.counts.failed == 1
    assert result.creates == [] and result.status.pending == []
    assert condition(result.status, "Degraded") == ("True", "RunFailed")
    again = plan(
        task(s, status=result.status, runs=(failed,), created=T0 - 90, resumed_at=T0 + 10),
        T0 + 11,
    )
    assert again.status.counts.failed == 1  # counted once


def test_a_recorded_cursor_keeps_older_runs_from_being_counted_again() -> None:
    s = spec(schedule="* * * * *")
    done = run(f"report-{T0}", T0, phase=RunPhase.SUCCEEDED, finished=T0 + 3)
    status = plan(task(s, runs=(done,)), T0 + 5).status
    assert status.last_schedule_time == to_time(T0)
    result = plan(task(s, status=status, runs=(done,)), T0 + 6)
    assert result.status.counts.succeeded == status.counts.succeeded
