"""Planner: which ticks fire, which are missed, and how the cursor survives restarts."""

from __future__ import annotations

from kron.api import RunResult, ScheduledTaskStatus, Trigger
from kron.planner import plan
from kron.planner.ticks import CATCH_UP_CAP
from kron.planner.timeutil import to_time
from support.planning import T0, run, spec, task


def test_on_time_tick_creates_run_named_after_its_nominal_second() -> None:
    result = plan(task(spec()), T0 + 0.05)
    assert [(c.name, c.nominal, c.trigger) for c in result.creates] == [
        (f"report-{T0}", T0, Trigger.SCHEDULE)
    ]
    assert result.status.last_schedule_time == to_time(T0)
    assert result.wake_at == T0 + 60
    assert result.status.next_schedule_time == to_time(T0 + 60)
    assert [a.name for a in result.status.active] == [f"report-{T0}"]


def test_before_the_first_tick_nothing_fires_and_wake_is_the_fire_time() -> None:
    result = plan(task(spec()), T0 - 0.5)
    assert result.creates == []
    assert result.wake_at == T0
    assert result.status.last_schedule_time is None  # no tick handled yet


def test_planning_again_at_the_same_instant_creates_nothing() -> None:
    first = plan(task(spec()), T0 + 0.05)
    again = plan(task(spec(), status=first.status, runs=(run(f"report-{T0}", T0),)), T0 + 0.06)
    assert again.creates == []


def test_restart_with_lost_status_rebuilds_the_cursor_from_runs() -> None:
    # The run exists but the status write that recorded it never happened.
    result = plan(task(spec(), runs=(run(f"report-{T0}", T0),), resumed_at=T0 + 1), T0 + 1.5)
    assert result.creates == []
    assert result.status.last_schedule_time == to_time(T0)


def test_tombstone_of_a_deleted_run_counts_as_handled() -> None:
    result = plan(task(spec(), tombstone=T0, resumed_at=T0 + 1), T0 + 1.5)
    assert result.creates == []


def test_new_task_never_fires_ticks_from_before_its_creation() -> None:
    result = plan(task(spec(), created=T0 + 30, resumed_at=T0 - 600), T0 + 31)
    assert result.creates == []
    assert result.status.counts.missed == 0
    assert result.wake_at == T0 + 60


def test_catch_up_latest_runs_only_the_most_recent_missed_tick() -> None:
    status = plan(task(spec()), T0 - 1).status  # cursor just before T0
    # Operator down from T0 - 1 to T0 + 300.5: ticks T0 .. T0+300 were due meanwhile.
    result = plan(task(spec(), status=status, resumed_at=T0 + 300.5), T0 + 300.6)
    assert [(c.nominal, c.trigger) for c in result.creates] == [(T0 + 300, Trigger.CATCH_UP)]
    assert result.status.counts.missed == 5
    assert result.tallies == {("missed", "CatchUp"): 5, ("fired", "catch-up"): 1}
    assert result.status.history[0].result is RunResult.MISSED
    assert any(e.reason == "Missed" for e in result.events)


def test_catch_up_latest_runs_the_most_recent_tick_that_is_not_excluded() -> None:
    # Excluded ticks are neither run nor missed, so the most recent missed tick is the
    # newest one that is not excluded (here 00:04, the 00:05 one being excluded).
    s = spec(excludeSchedules=["5 0 * * *"])
    status = plan(task(s), T0 - 1).status
    result = plan(task(s, status=status, resumed_at=T0 + 300.5), T0 + 300.6)
    assert [(c.nominal, c.trigger) for c in result.creates] == [(T0 + 240, Trigger.CATCH_UP)]
    assert (result.status.counts.missed, result.status.counts.excluded) == (4, 1)
    assert result.status.last_schedule_time == to_time(T0 + 300)


def test_catch_up_all_runs_every_missed_tick_oldest_first() -> None:
    s = spec(catchUpPolicy="All")
    status = plan(task(s), T0 - 1).status
    result = plan(task(s, status=status, resumed_at=T0 + 300.5), T0 + 300.6)
    assert [c.nominal for c in result.creates] == [T0 + 60 * i for i in range(6)]
    assert {c.trigger for c in result.creates} == {Trigger.CATCH_UP}
    assert result.status.counts.missed == 0


def test_catch_up_all_is_capped_and_keeps_the_most_recent_ticks() -> None:
    s = spec(schedule="* * * * * *", catchUpPolicy="All")
    status = plan(task(s), T0 - 0.5).status
    result = plan(task(s, status=status, resumed_at=T0 + 500.5), T0 + 500.6)
    assert len(result.creates) == CATCH_UP_CAP
    assert [c.nominal for c in result.creates] == list(range(T0 + 401, T0 + 501))
    assert result.status.counts.missed == 501 - CATCH_UP_CAP


def test_catch_up_none_runs_nothing_that_was_due_while_down() -> None:
    s = spec(catchUpPolicy="None")
    status = plan(task(s), T0 - 1).status
    result = plan(task(s, status=status, resumed_at=T0 + 300.5), T0 + 300.6)
    assert result.creates == []
    assert result.status.counts.missed == 6
    assert result.wake_at == T0 + 360


def test_ticks_due_while_dispatching_late_still_run_under_catch_up_none() -> None:
    s = spec(schedule="* * * * * *", catchUpPolicy="None")
    status = plan(task(s), T0 - 0.5).status
    # Dispatching since before T0 but the loop only got here 2.5 s late (load).
    result = plan(task(s, status=status, resumed_at=T0 - 0.5), T0 + 2.5)
    assert [c.nominal for c in result.creates] == [T0, T0 + 1, T0 + 2]


def test_starting_deadline_marks_a_late_tick_missed() -> None:
    s = spec(startingDeadlineSeconds=10)
    status = plan(task(s), T0 - 1).status
    result = plan(task(s, status=status, resumed_at=T0 + 30), T0 + 30)
    assert result.creates == []
    assert result.status.counts.missed == 1
    assert "startingDeadlineSeconds=10" in (result.status.history[0].message or "")


def test_create_expires_at_the_starting_deadline() -> None:
    result = plan(task(spec(startingDeadlineSeconds=15)), T0 + 0.1)
    assert result.creates[0].expires_at == T0 + 15


def test_without_deadline_a_create_expires_when_the_next_tick_is_due() -> None:
    result = plan(task(spec()), T0 + 0.1)
    assert result.creates[0].expires_at == T0 + 60


def test_schedule_edit_never_fires_the_backlog() -> None:
    old = plan(task(spec()), T0 - 1).status
    edited = spec(schedule="*/5 * * * * *")
    result = plan(task(edited, status=old, generation=2, resumed_at=T0 - 3600), T0 + 42.5)
    assert result.creates == []
    assert result.status.counts.missed == 0
    assert result.wake_at == T0 + 45


def test_excluded_tick_is_recorded_and_not_run() -> None:
    s = spec(schedule="0 0 * * *", excludeSchedules=["* * 1 1 *"])
    result = plan(task(s, created=T0 - 10), T0 + 0.1)
    assert result.creates == []
    assert result.status.counts.excluded == 1
    assert result.status.history[0].result is RunResult.EXCLUDED
    assert result.wake_at == T0 + 86400


def test_window_end_completes_the_task() -> None:
    s = spec(endTime=to_time(T0 + 90).isoformat())
    zeroth = plan(task(s), T0 + 0.1)
    done0 = run(f"report-{T0}", T0, phase="Succeeded", finished=T0 + 5)
    first = plan(task(s, status=zeroth.status, runs=(done0,)), T0 + 60.1)
    assert [c.nominal for c in first.creates] == [T0 + 60]
    assert first.wake_at is None  # T0 + 120 is past the window
    done1 = run(f"report-{T0 + 60}", T0 + 60, phase="Succeeded", finished=T0 + 65)
    done = plan(task(s, status=first.status, runs=(done0, done1)), T0 + 66)
    ready = next(c for c in done.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "Completed")
    assert done.wake_at is None
    assert done.status.next_schedule_time is None


def test_at_expression_fires_once_then_completes() -> None:
    s = spec(schedule=f"@at {to_time(T0 + 5).isoformat().replace('+00:00', 'Z')}")
    fired = plan(task(s, created=T0), T0 + 5.01)
    assert [c.nominal for c in fired.creates] == [T0 + 5]
    finished = run(f"report-{T0 + 5}", T0 + 5, phase="Succeeded", finished=T0 + 6)
    after = plan(task(s, status=fired.status, runs=(finished,), created=T0), T0 + 7)
    assert after.creates == []
    assert next(c.reason for c in after.status.conditions if c.type == "Ready") == "Completed"


def test_jitter_delays_the_fire_and_shows_in_upcoming_times() -> None:
    s = spec(jitterSeconds=30)
    early = plan(task(s), T0 - 0.5)
    assert early.wake_at is not None
    assert T0 <= early.wake_at < T0 + 30
    assert early.status.next_schedule_time == to_time(early.wake_at)
    at_nominal = plan(task(s, status=early.status), T0 + 0.001)
    if early.wake_at > T0 + 0.001:
        assert at_nominal.creates == []
    fired = plan(task(s, status=early.status), early.wake_at)
    assert [c.nominal for c in fired.creates] == [T0]


def test_status_reflects_a_fresh_task_before_any_tick() -> None:
    result = plan(task(spec()), T0 - 30)
    assert isinstance(result.status, ScheduledTaskStatus)
    assert result.status.observed_generation == 1
    assert result.status.schedule_summary == "* * * * *"
    assert len(result.status.upcoming_schedule_times) == 5


def test_ticks_that_ran_before_a_crash_are_not_counted_missed() -> None:
    stale = plan(task(spec()), T0 - 1).status  # the last status write that landed
    runs = tuple(run(f"report-{T0 + 60 * i}", T0 + 60 * i) for i in range(3))
    result = plan(task(spec(), status=stale, runs=runs, resumed_at=T0 + 120.5), T0 + 120.6)
    assert result.creates == []
    assert result.status.counts.missed == 0
    assert result.status.last_schedule_time == to_time(T0 + 120)


def test_tick_in_the_creation_second_does_not_fire() -> None:
    # creationTimestamp has whole seconds: the task may have appeared up to 1 s after T0.
    result = plan(task(spec(schedule="* * * * * *"), created=T0, resumed_at=T0 - 5), T0 + 1.2)
    assert [c.nominal for c in result.creates] == [T0 + 1]
