"""Run manifests as documented (reading them back: test_observed.py)."""

from __future__ import annotations

from kron.api import ScheduledTaskSpec, Trigger
from kron.k8s.runs import TaskRef, build_run, reserved_keys
from kron.k8s.shards import bucket_of
from kron.planner import CreateRun

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
    assert meta["labels"] == {
        "team": "a",
        "kron.dev/task": "report",
        "kron.dev/task-uid": "uid-1",
        "kron.dev/shard": str(bucket_of("uid-1")),
    }
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


RESERVED_SPEC = ScheduledTaskSpec.model_validate(
    {
        "schedule": "@hourly",
        "jobTemplate": {
            "metadata": {
                "labels": {"team": "a", "kron.dev/task-uid": "someone-else"},
                "annotations": {"kron.dev/scheduled-time": "2999-01-01T00:00:00Z"},
            },
            "spec": {
                "template": {
                    "metadata": {"labels": {"kron.dev/task-uid": "x", "app": "r"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                }
            },
        },
    }
)


def test_a_templates_own_kron_keys_never_reach_its_runs() -> None:
    job = build_run(TASK, RESERVED_SPEC, CREATE)
    meta = job["metadata"]
    assert meta["labels"] == {
        "team": "a",
        "kron.dev/task": "report",
        "kron.dev/task-uid": "uid-1",
        "kron.dev/shard": str(bucket_of("uid-1")),
    }
    assert meta["annotations"]["kron.dev/scheduled-time"] == "2026-01-01T00:00:00Z"
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    assert pod_labels == {"app": "r", "kron.dev/task": "report"}


def test_reserved_keys_names_each_one_by_its_place() -> None:
    assert reserved_keys(RESERVED_SPEC) == [
        "metadata.labels.kron.dev/task-uid",
        "metadata.annotations.kron.dev/scheduled-time",
        "spec.template.metadata.labels.kron.dev/task-uid",
    ]
    assert reserved_keys(JOB_SPEC) == []


def test_a_pod_template_with_null_metadata_builds() -> None:
    """Found by make fuzz: `metadata: null` in the pod template is admitted."""
    spec = ScheduledTaskSpec.model_validate(
        {
            "schedule": "@hourly",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "metadata": None,
                        "spec": {"containers": [{"name": "c", "image": "i"}]},
                    }
                }
            },
        }
    )
    job = build_run(TASK, spec, CREATE)
    assert job["spec"]["template"]["metadata"]["labels"] == {"kron.dev/task": "report"}
