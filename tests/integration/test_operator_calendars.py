"""Calendars, success deadlines and maxRuns on a real control plane, through kubectl apply."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from support.cluster import ClusterHandle
from support.operator import wait_leading
from support.tasks import (
    apply,
    event_reasons,
    job_task,
    run_names,
    status,
    wait_condition,
)
from support.wait import wait_until


def calendar(name: str, *dates: str) -> dict[str, Any]:
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "Calendar",
        "metadata": {"name": name},
        "spec": {
            "description": "test days",
            "entries": [{"date": d, "description": f"day {d}"} for d in dates],
        },
    }


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def excluded(cluster: ClusterHandle, namespace: str, name: str) -> int:
    return int((status(cluster, namespace, name).get("counts") or {}).get("excluded", 0))


def test_a_calendar_edit_re_plans_the_task_that_refers_to_it(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    kron = operator()
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    apply(cluster, namespace, calendar("open-days", yesterday))
    apply(
        cluster,
        namespace,
        job_task("gated", "*/2 * * * * *", restrictToCalendars=["open-days"]),
    )
    apply(cluster, namespace, job_task("free", "*/2 * * * * *"))
    # Today is not an open day: every tick is counted Excluded and nothing runs.
    wait_until(
        lambda: excluded(cluster, namespace, "gated") >= 2,
        timeout=30,
        message="ticks of gated excluded",
    )
    assert run_names(cluster, namespace, "gated") == []
    assert status(cluster, namespace, "gated").get("history", [{}])[0].get("result") == "Excluded"
    # Edit the calendar: today becomes an open day, and the task fires at once.
    apply(cluster, namespace, calendar("open-days", yesterday, today().isoformat()))
    wait_until(
        lambda: run_names(cluster, namespace, "gated"),
        timeout=30,
        message="gated fires after the calendar edit",
    )
    # Now exclude today instead, through excludeCalendars: the task stops firing.
    apply(cluster, namespace, calendar("holidays", today().isoformat()))
    apply(
        cluster,
        namespace,
        job_task("gated", "*/2 * * * * *", excludeCalendars=["holidays"]),
    )
    before = excluded(cluster, namespace, "gated")
    wait_until(
        lambda: excluded(cluster, namespace, "gated") >= before + 2,
        timeout=30,
        message="gated excluded on a holiday",
    )
    assert run_names(cluster, namespace, "free"), "the other task fired all along"
    assert kron.metric("kron_ticks_skipped_total", namespace=namespace, reason="Excluded") >= 2


def test_a_missing_calendar_is_reported_and_the_task_fires_once_it_exists(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("waits", "*/2 * * * * *", excludeCalendars=["nope"]))
    ready = wait_condition(
        cluster, namespace, "waits", status="False", reason="CalendarNotFound", timeout=30
    )
    assert "'nope'" in ready["message"]
    wait_until(
        lambda: "CalendarNotFound" in event_reasons(cluster, namespace, "waits"),
        timeout=20,
        message="a CalendarNotFound event",
    )
    assert run_names(cluster, namespace, "waits") == []
    # A calendar the operator cannot use is reported as such (29 February 2027 passes
    # the shape check only if CEL is lenient: here the CRD refuses it outright).
    refused = cluster.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps(calendar("nope", "2027-02-29")),
        check=False,
    )
    assert refused.returncode != 0 and "leap years" in refused.stderr
    apply(cluster, namespace, calendar("nope", "2000-01-01"))
    wait_condition(cluster, namespace, "waits", status="True", reason="Scheduled", timeout=30)
    wait_until(
        lambda: run_names(cluster, namespace, "waits"),
        timeout=30,
        message="waits fires once its calendar exists",
    )


def overdue(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, Any]:
    found = [
        c
        for c in status(cluster, namespace, name).get("conditions") or []
        if c["type"] == "Overdue"
    ]
    return found[0] if found else {}


def test_overdue_is_set_when_runs_keep_failing_and_cleared_by_a_success(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    kron = operator()
    failing = job_task(
        "switch", "*/3 * * * * *", duration="200ms", result="Failed", successDeadlineSeconds=4
    )
    apply(cluster, namespace, failing)
    found = wait_condition(cluster, namespace, "switch", "Overdue", status="True", timeout=40)
    assert found["reason"] == "SuccessDeadlineExceeded"
    assert "overdue since" in found["message"] and "successDeadlineSeconds=4" in found["message"]
    wait_until(
        lambda: "Overdue" in event_reasons(cluster, namespace, "switch"),
        timeout=20,
        message="an Overdue event",
    )
    wait_until(
        lambda: kron.metric("kron_tasks_overdue", namespace=namespace) == 1,
        timeout=20,
        message="kron_tasks_overdue counts the task",
    )
    # The runs succeed again: the next success clears it.
    apply(
        cluster,
        namespace,
        job_task("switch", "*/3 * * * * *", duration="200ms", successDeadlineSeconds=4),
    )
    cleared = wait_condition(cluster, namespace, "switch", "Overdue", status="False", timeout=40)
    assert cleared["reason"] == "WithinDeadline"
    wait_until(
        lambda: kron.metric("kron_tasks_overdue", namespace=namespace) == 0,
        timeout=20,
        message="kron_tasks_overdue back to none",
    )


def test_max_runs_completes_after_exactly_n_scheduled_runs_across_a_restart(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    kron = operator()
    apply(cluster, namespace, job_task("thrice", "*/2 * * * * *", duration="100ms", maxRuns=3))
    ready = wait_condition(
        cluster, namespace, "thrice", status="True", reason="Completed", timeout=40
    )
    assert "maxRuns=3" in ready["message"]
    assert len(run_names(cluster, namespace, "thrice")) == 3
    st = status(cluster, namespace, "thrice")
    assert st["scheduledRuns"] == 3 and "nextScheduleTime" not in st
    # A crash and a restart change nothing: the count comes from the runs themselves.
    kron.kill()
    kron.start()
    wait_leading(kron)
    apply(cluster, namespace, job_task("probe", "*/2 * * * * *"))
    wait_until(
        lambda: run_names(cluster, namespace, "probe"),
        timeout=30,
        message="the restarted operator fires",
    )
    assert len(run_names(cluster, namespace, "thrice")) == 3
    assert wait_condition(cluster, namespace, "thrice", reason="Completed")["status"] == "True"
