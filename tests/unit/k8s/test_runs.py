"""Run manifests as documented, and reading Jobs and Pods back for the planner."""

from __future__ import annotations

from kron.api import RunKind, ScheduledTaskSpec, Trigger
from kron.k8s.runs import TaskRef, build_run, observe_run
from kron.planner import CreateRun, RunPhase

TASK = TaskRef("team-a", "report", "uid-1")
JOB_SPEC = ScheduledTaskSpec.model_validate(
    {
        "schedule": "@hourly",
        "jobTemplate": {
            "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
        },
    }
)
POD_SPEC = ScheduledTaskSpec.model_validate(
    {"schedule": "@hourly", "podTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
)
CREATE = CreateRun("report-1767225600-r2", 1767225600, 2, Trigger.RETRY, 1767225600.0)


def test_job_carries_owner_labels_annotations_and_a_default_restart_policy() -> None:
    job = build_run(TASK, JOB_SPEC, CREATE)
    meta = job["metadata"]
    assert (job["kind"], meta["name"], meta["namespace"]) == ("Job", CREATE.name, "team-a")
    assert meta["labels"] == {"team": "a", "kron.dev/task": "report", "kron.dev/task-uid": "uid-1"}
    assert meta["annotations"] == {
        "note": "x",
        "kron.dev/scheduled-time": "2026-01-01T00:00:00Z",
        "kron.dev/attempt": "2",
        "kron.dev/trigger": "retry",
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "kron.dev/v1alpha1",
            "kind": "ScheduledTask",
            "name": "report",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    pod = job["spec"]["template"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"] == {"kron.dev/task": "report"}


def test_building_a_run_does_not_change_the_template() -> None:
    build_run(TASK, JOB_SPEC, CREATE)
    assert "restartPolicy" not in JOB_SPEC.job_template.spec["template"]["spec"]  # type: ignore[union-attr]


def test_a_job_reads_back_with_its_tick_and_outcome() -> None:
    job = build_run(TASK, JOB_SPEC, CREATE)
    job["metadata"]["uid"] = "job-uid"
    job["status"] = {
        "startTime": "2026-01-01T00:00:01Z",
        "conditions": [
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": "2026-01-01T00:00:09Z",
            },
        ],
    }
    run = observe_run(RunKind.JOB, job)
    assert run is not None
    assert (run.name, run.nominal, run.attempt, run.trigger) == (
        CREATE.name,
        1767225600,
        2,
        Trigger.RETRY,
    )
    assert run.phase is RunPhase.FAILED
    assert run.finished == 1767225609.0
    assert run.message.startswith("BackoffLimitExceeded")


def test_a_pod_reads_back_with_its_exit_code() -> None:
    pod = build_run(TASK, POD_SPEC, CREATE)
    assert pod["kind"] == "Pod" and pod["spec"]["restartPolicy"] == "Never"
    pod["status"] = {
        "phase": "Failed",
        "containerStatuses": [
            {
                "name": "c",
                "state": {
                    "terminated": {
                        "exitCode": 3,
                        "reason": "Error",
                        "finishedAt": "2026-01-01T00:00:05Z",
                    }
                },
            }
        ],
    }
    run = observe_run(RunKind.POD, pod)
    assert run is not None and run.phase is RunPhase.FAILED
    assert run.message == "c: Error, exit code 3"


def test_objects_without_kron_labels_are_not_runs() -> None:
    assert observe_run(RunKind.JOB, {"metadata": {"name": "x", "annotations": {}}}) is None
