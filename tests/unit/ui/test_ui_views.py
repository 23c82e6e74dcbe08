"""kron ui's pure view models: task rows and states, upcoming days with DST, herds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ui_support import task_obj

from kron.api import ScheduledTask
from kron.ui.calendar import upcoming_days, zone_changes
from kron.ui.herds import herds
from kron.ui.model import task_view

NOW = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC).timestamp()


def condition(type_: str, status: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def ready_status(**extra: object) -> dict[str, object]:
    return {
        "observedGeneration": 1,
        "conditions": [condition("Ready", "True", "Scheduled")],
        **extra,
    }


# -- rows and states -------------------------------------------------------------------


def test_a_row_has_words_cron_zone_and_the_next_fire_in_the_tasks_zone() -> None:
    view = task_view(task_obj("nightly", "30 2 * * 1-5", timeZone="Europe/Berlin"), NOW)
    assert (view.words, view.cron, view.zone) == (
        "at 02:30 on weekdays",
        ["30 2 * * 1-5"],
        "Europe/Berlin",
    )
    assert view.next_fire is not None
    assert view.next_fire.text == "2027-03-11 02:30 CET"
    assert view.next_fire.relative == "in 13h30m"
    assert [s.label for s in view.states] == ["Pending"]


def test_states_follow_the_conditions_and_a_long_past_next_fire_is_overdue() -> None:
    late = dt.datetime.fromtimestamp(NOW - 600, dt.UTC).isoformat()
    status = ready_status(
        nextScheduleTime=late,
        conditions=[
            condition("Ready", "False", "TooManyFailures", "3 failures in a row"),
            condition("Degraded", "True", "RunFailed"),
            condition("Stalled", "True", "TooManyFailures"),
        ],
    )
    view = task_view(task_obj("flaky", status=status), NOW)
    assert [(s.label, s.tone) for s in view.states] == [
        ("TooManyFailures", "bad"),
        ("Degraded", "warn"),
        ("Stalled", "bad"),
        ("Overdue", "warn"),
    ]
    assert "10m ago" in view.states[-1].detail


def test_an_overdue_condition_from_the_operator_wins_over_the_derived_one() -> None:
    status = ready_status(
        nextScheduleTime=dt.datetime.fromtimestamp(NOW - 600, dt.UTC).isoformat(),
        conditions=[
            condition("Ready", "True", "Scheduled"),
            condition("Overdue", "False", "Succeeded"),
        ],
    )
    assert [s.label for s in task_view(task_obj("ok", status=status), NOW).states] == ["Ready"]


def test_a_suspended_task_shows_suspended_and_no_next_fire() -> None:
    status = ready_status(conditions=[condition("Ready", "True", "Suspended", "spec.suspend")])
    view = task_view(task_obj("paused", suspend=True, status=status), NOW)
    assert [s.label for s in view.states] == ["Suspended"]
    assert view.next_fire is None


def test_history_shows_result_duration_message_and_the_run_name() -> None:
    status = ready_status(
        history=[
            {
                "scheduledTime": "2027-03-10T03:00:00Z",
                "name": "nightly-1804647600",
                "trigger": "schedule",
                "result": "Failed",
                "startTime": "2027-03-10T03:00:01Z",
                "completionTime": "2027-03-10T03:04:04Z",
                "message": "BackoffLimitExceeded",
            },
            {"scheduledTime": "2027-03-09T03:00:00Z", "trigger": "schedule", "result": "Skipped"},
        ]
    )
    view = task_view(task_obj("nightly", status=status), NOW)
    failed = view.history[0]
    assert (failed.result, failed.tone, failed.duration, failed.name, failed.kind) == (
        "Failed",
        "bad",
        "4m3s",
        "nightly-1804647600",
        "Job",
    )
    assert failed.message == "BackoffLimitExceeded"
    assert view.last_result is failed
    assert view.history[1].name is None


def test_a_task_that_does_not_parse_gets_a_row_that_says_why() -> None:
    obj = task_obj("broken")
    obj["spec"]["timeZone"] = "Mars/Olympus"
    view = task_view(obj, NOW)
    assert view.states[0].label == "Invalid"
    assert "Mars/Olympus" in (view.problem or "")
    assert view.cron == ["0 3 * * *"]


# -- upcoming days ---------------------------------------------------------------------


def spec_of(schedule: str, zone: str, **spec: object) -> ScheduledTask:
    return ScheduledTask.from_api(task_obj("t", schedule, timeZone=zone, **spec))


def test_spring_forward_marks_the_day_and_the_moved_fire() -> None:
    task = spec_of("30 2 * * *", "America/New_York")
    start = dt.datetime(2027, 3, 12, 12, tzinfo=ZoneInfo("America/New_York")).timestamp()
    calendar = upcoming_days(task.spec, "u", start, 4, now=NOW)
    days = {d.iso: d for d in calendar.days}
    assert list(days) == ["2027-03-12", "2027-03-13", "2027-03-14", "2027-03-15"]
    change_day = days["2027-03-14"]
    assert [c.text for c in change_day.changes] == [
        "clocks go forward at 02:00 to 03:00: EST (UTC-05:00) to EDT (UTC-04:00)"
    ]
    assert [(f.clock, bool(f.note)) for f in change_day.fires] == [("03:00", True)]
    assert all(not d.changes for iso, d in days.items() if iso != "2027-03-14")
    assert [f.clock for f in days["2027-03-15"].fires] == ["02:30"]


def test_fall_back_marks_the_repeated_hour_of_an_hourly_task() -> None:
    task = spec_of("30 * * * *", "Europe/Berlin")
    start = dt.datetime(2027, 10, 31, 12, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    day = upcoming_days(task.spec, "u", start, 1, now=NOW).days[0]
    assert day.changes[0].text.startswith("clocks go back at 03:00 to 02:00")
    clocks = [f.clock for f in day.fires]
    assert clocks[:5] == ["00:30", "01:30", "02:30", "02:30", "03:30"]  # 25 hours that day
    assert len(clocks) == 25
    assert [bool(f.note) for f in day.fires[2:4]] == [False, True]


def test_today_lists_fires_from_now_earlier_days_are_past_and_dense_days_are_cut() -> None:
    task = spec_of("*/10 * * * * *", "UTC")
    calendar = upcoming_days(task.spec, "u", NOW - 86_400, 3, now=NOW)
    yesterday, today, tomorrow = calendar.days
    assert all(d.more for d in calendar.days)  # every day is cut, none is left empty
    assert all(f.past for f in yesterday.fires) and not yesterday.from_now
    assert today.from_now and today.fires[0].clock == "12:00:00"  # NOW is 12:00 UTC
    assert not any(f.past for f in today.fires + tomorrow.fires)


def test_a_page_with_second_fires_shows_seconds_on_every_fire() -> None:
    obj = task_obj("t", schedules=["0 6 * * *", "30 0 7 * * *"])
    del obj["spec"]["schedule"]
    task = ScheduledTask.from_api(obj)
    day = upcoming_days(task.spec, "u", NOW + 86_400, 1, now=NOW).days[0]
    assert [f.clock for f in day.fires] == ["06:00:00", "07:00:30"]


def test_zone_changes_lists_each_offset_change_in_the_range() -> None:
    start = int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())
    changes = zone_changes("Europe/Berlin", start, start + 365 * 86_400)
    assert [(c.forward, c.shift) for c in changes] == [(True, 3600), (False, -3600)]
    assert zone_changes("UTC", start, start + 365 * 86_400) == []


# -- herds -----------------------------------------------------------------------------


def tasks(*specs: tuple[str, str, dict[str, object]]) -> list[ScheduledTask]:
    return [ScheduledTask.from_api(task_obj(name, expr, **extra)) for name, expr, extra in specs]


def test_runs_that_start_in_the_same_minute_form_a_herd() -> None:
    start = dt.datetime(2027, 3, 10, 0, 0, 30, tzinfo=dt.UTC).timestamp()
    chart = herds(
        tasks(
            ("a", "0 * * * *", {}),
            ("b", "0 * * * *", {}),
            ("c", "0 */2 * * *", {}),
            ("d", "*/15 * * * *", {}),
            ("off", "0 * * * *", {"suspend": True}),
        ),
        start,
        dt.UTC,
    )
    assert chart.start == dt.datetime(2027, 3, 10, 0, 0, tzinfo=dt.UTC)
    assert chart.total == 24 + 24 + 12 + 96
    assert chart.busiest == 4  # a, b, c and d at even hours
    top = chart.peaks[0]
    assert (top.starts.strftime("%H:%M"), top.count) == ("00:00", 4)  # the current minute counts
    assert sorted(top.tasks) == ["a", "b", "c", "d"]
    assert chart.skipped == ["off (suspended)"]


def test_jitter_spreads_a_herd_over_several_minutes() -> None:
    start = dt.datetime(2027, 3, 10, tzinfo=dt.UTC).timestamp()
    names = [(f"t{i}", "0 * * * *", {}) for i in range(20)]
    herd = herds(tasks(*names), start, dt.UTC)
    spread = herds(tasks(*[(n, e, {"jitterSeconds": 600}) for n, e, _ in names]), start, dt.UTC)
    assert herd.busiest == 20
    assert spread.busiest < 10
    assert spread.total == herd.total
    assert herd.peaks[0].unjittered and not spread.peaks[0].unjittered
