"""The month-dependent day forms and the far look-ahead, through kubectl apply and the
operator: what status.upcomingScheduleTimes shows is what the forms mean."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from support.cluster import ClusterHandle
from support.tasks import apply, job_task, status, wait_condition
from support.wait import wait_until

BERLIN = ZoneInfo("Europe/Berlin")


def _is_last_weekday(day: dt.date) -> bool:
    later = [day + dt.timedelta(days=k) for k in range(1, 4)]
    return day.isoweekday() <= 5 and all(d.month != day.month or d.isoweekday() > 5 for d in later)


def _is_last_day(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).month != day.month


def test_month_dependent_forms_are_admitted_and_planned(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        job_task(
            "month-end",
            None,
            schedules=["0 18 LW * *", "30 7 ? * FRI#2"],
            timeZone="Europe/Berlin",
            excludeSchedules=["* * L * *"],  # not when the last weekday is the last day
        ),
    )
    ready = wait_condition(cluster, namespace, "month-end", status="True", timeout=30)
    assert ready["reason"] == "Scheduled"
    st = wait_until(
        lambda: (s := status(cluster, namespace, "month-end")).get("upcomingScheduleTimes") and s,
        timeout=30,
        message="upcoming times of month-end",
    )
    times = [dt.datetime.fromisoformat(t).astimezone(BERLIN) for t in st["upcomingScheduleTimes"]]
    assert len(times) == 5 and times == sorted(times)
    assert st["nextScheduleTime"] == st["upcomingScheduleTimes"][0]
    for moment in times:
        day = moment.date()
        if (moment.hour, moment.minute) == (18, 0):
            assert _is_last_weekday(day) and not _is_last_day(day), moment
        else:
            assert (moment.hour, moment.minute) == (7, 30), moment
            assert day.isoweekday() == 5 and (day.day - 1) // 7 == 1, moment


def test_a_one_off_two_centuries_away_shows_as_next(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("far", "@at 2200-01-01T00:00:00Z"))
    wait_condition(cluster, namespace, "far", status="True", reason="Scheduled", timeout=30)
    st = wait_until(
        lambda: (s := status(cluster, namespace, "far")).get("nextScheduleTime") and s,
        timeout=30,
        message="nextScheduleTime of far",
    )
    assert dt.datetime.fromisoformat(st["nextScheduleTime"]) == dt.datetime(
        2200, 1, 1, tzinfo=dt.UTC
    )
    assert len(st["upcomingScheduleTimes"]) == 1
