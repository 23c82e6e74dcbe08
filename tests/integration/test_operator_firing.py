"""kron on a real control plane: runs appear on time, named, labelled and owned as documented."""

from __future__ import annotations

from datetime import datetime

from kron.k8s.shards import bucket_of
from support.cluster import ClusterHandle
from support.tasks import (
    apply,
    condition,
    event_reasons,
    get_task,
    job_task,
    run_names,
    runs,
    status,
    wait_condition,
)
from support.wait import wait_until


def test_task_fires_named_labelled_owned_jobs_on_schedule(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    kron = operator()
    task = job_task("report", "*/2 * * * * *")
    task["spec"]["jobTemplate"]["metadata"] = {
        "labels": {"team": "a"},
        "annotations": {"note": "kept"},
    }
    apply(cluster, namespace, task)
    jobs = wait_until(
        lambda: (found := runs(cluster, namespace, "report")) and len(found) >= 2 and found,
        timeout=30,
        message="two Jobs of task report",
    )
    uid = get_task(cluster, namespace, "report")["metadata"]["uid"]
    for job in jobs:
        meta = job["metadata"]
        seconds = int(meta["name"].removeprefix("report-"))
        assert seconds % 2 == 0
        scheduled = datetime.fromisoformat(meta["annotations"]["kron.dev/scheduled-time"])
        assert scheduled.timestamp() == seconds
        assert meta["annotations"]["kron.dev/trigger"] == "schedule"
        assert meta["annotations"]["kron.dev/attempt"] == "0"
        assert meta["annotations"]["note"] == "kept"
        assert meta["labels"] == {
            "kron.dev/task": "report",
            "kron.dev/task-uid": uid,
            "kron.dev/shard": str(bucket_of(uid)),
            "team": "a",
        }
        (owner,) = meta["ownerReferences"]
        assert (owner["kind"], owner["uid"], owner["controller"]) == ("ScheduledTask", uid, True)
    ready = wait_condition(cluster, namespace, "report", status="True", timeout=20)
    assert ready["reason"] == "Scheduled"
    st = wait_until(
        lambda: (s := status(cluster, namespace, "report")).get("history") and s,
        timeout=20,
        message="a finished run in status.history",
    )
    assert st["history"][0]["result"] == "Succeeded"
    assert st["counts"]["fired"] >= 2
    assert st["observedGeneration"] == 1
    assert len(st["upcomingScheduleTimes"]) == 5
    wait_until(
        lambda: {"Fired", "Succeeded"} <= event_reasons(cluster, namespace, "report"),
        timeout=20,
        message="Fired and Succeeded events",
    )
    assert kron.metric("kron_fires_total", namespace=namespace, trigger="schedule") >= 2
    assert kron.metric("kron_fire_lag_seconds_count") >= 2


def test_pod_mode_runs_bare_pods_and_records_their_exit_code(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        {
            "apiVersion": "kron.dev/v1alpha1",
            "kind": "ScheduledTask",
            "metadata": {"name": "probe"},
            "spec": {
                "schedule": "*/3 * * * * *",
                "podTemplate": {
                    "metadata": {
                        "annotations": {
                            "sim.kron.dev/result": "Failed",
                            "sim.kron.dev/exit-code": "3",
                            "sim.kron.dev/duration": "500ms",
                        }
                    },
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
                },
            },
        },
    )
    failed = wait_until(
        lambda: next(
            (
                h
                for h in status(cluster, namespace, "probe").get("history", [])
                if h["result"] == "Failed"
            ),
            None,
        ),
        timeout=30,
        message="a failed Pod run in history",
    )
    assert "exit code 3" in failed["message"]
    pods = runs(cluster, namespace, "probe", kind="pods")
    assert pods and all(
        p["metadata"]["ownerReferences"][0]["kind"] == "ScheduledTask" for p in pods
    )
    assert condition(cluster, namespace, "probe", "Degraded")["status"] == "True"


def test_invalid_spec_is_reported_while_other_tasks_keep_firing(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    # Admission accepts the zone's shape; only the operator knows Mars has no tzdata.
    apply(cluster, namespace, job_task("broken", "*/2 * * * * *", timeZone="Mars/Olympus_Mons"))
    apply(cluster, namespace, job_task("healthy", "*/2 * * * * *"))
    ready = wait_condition(cluster, namespace, "broken", status="False")
    assert ready["reason"] == "InvalidTimeZone"
    stalled = condition(cluster, namespace, "broken", "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "InvalidTimeZone")
    assert "Mars/Olympus_Mons" in ready["message"]
    wait_until(
        lambda: "InvalidTimeZone" in event_reasons(cluster, namespace, "broken"),
        timeout=20,
        message="InvalidTimeZone event",
    )
    wait_until(
        lambda: len(run_names(cluster, namespace, "healthy")) >= 2,
        timeout=30,
        message="the healthy task keeps firing",
    )
    assert run_names(cluster, namespace, "broken") == []
    # Fixing the spec makes it Ready and it starts firing, without a backlog.
    apply(cluster, namespace, job_task("broken", "*/2 * * * * *", timeZone="Europe/Paris"))
    wait_condition(cluster, namespace, "broken", "Ready", reason="Scheduled", timeout=30)
    wait_until(
        lambda: run_names(cluster, namespace, "broken"), timeout=30, message="broken task fires"
    )


def test_schedule_edit_replans_at_once_without_a_backlog(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("edit", "0 0 1 1 *"))
    wait_until(
        lambda: status(cluster, namespace, "edit").get("nextScheduleTime"),
        timeout=30,
        message="first plan",
    )
    apply(cluster, namespace, job_task("edit", "*/2 * * * * *"))
    wait_until(
        lambda: len(run_names(cluster, namespace, "edit")) >= 1,
        timeout=20,
        message="fires on the new schedule",
    )
    st = status(cluster, namespace, "edit")
    assert st["counts"]["missed"] == 0
    assert st["observedGeneration"] == 2
    assert st["scheduleSummary"] == "*/2 * * * * *"
