"""Reading Jobs and Pods back: a run belongs to a task by ownership, not by its label.

Every object here is one a tenant could write: kron's label and annotations are
free for anyone who may create a Pod, so each rule is pinned by the forgery it stops.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kron.api import RunKind, ScheduledTaskSpec, Trigger
from kron.k8s.observed import Ignored, read_run, run_owner
from kron.k8s.runs import TaskRef, build_run
from kron.planner import CreateRun, RunPhase
from kron.schedule import manual_run_name

TASK = TaskRef("team-a", "report", "uid-1")
JOB_SPEC = ScheduledTaskSpec.model_validate(
    {
        "schedule": "@hourly",
        "jobTemplate": {
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
        },
    }
)
POD_SPEC = ScheduledTaskSpec.model_validate(
    {"schedule": "@hourly", "podTemplate": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
)
NOMINAL = 1767225600
CREATE = CreateRun("report-1767225600-r2", NOMINAL, 2, Trigger.RETRY, float(NOMINAL))


def as_created(obj: dict[str, Any], created: str = "2026-01-01T00:00:01Z") -> dict[str, Any]:
    """What the API server returns: uid and creationTimestamp added."""
    obj = copy.deepcopy(obj)
    obj["metadata"]["uid"] = "run-uid"
    obj["metadata"]["creationTimestamp"] = created
    return obj


def job(create: CreateRun = CREATE) -> dict[str, Any]:
    return as_created(build_run(TASK, JOB_SPEC, create))


def test_a_job_reads_back_with_its_tick_and_outcome() -> None:
    obj = job()
    obj["status"] = {
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
    assert run_owner(obj) is not None
    run = read_run(RunKind.JOB, obj, "report")
    assert not isinstance(run, Ignored)
    assert (run.name, run.nominal, run.attempt, run.trigger) == (
        CREATE.name,
        NOMINAL,
        2,
        Trigger.RETRY,
    )
    assert run.phase is RunPhase.FAILED
    assert run.finished == 1767225609.0
    assert run.message.startswith("BackoffLimitExceeded")


def test_a_pod_reads_back_with_its_exit_code() -> None:
    pod = as_created(build_run(TASK, POD_SPEC, CREATE))
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
    run = read_run(RunKind.POD, pod, "report")
    assert not isinstance(run, Ignored) and run.phase is RunPhase.FAILED
    assert run.message == "c: Error, exit code 3"


def test_the_owner_is_the_controller_reference_in_the_objects_own_namespace() -> None:
    owner = run_owner(job())
    assert owner is not None
    assert (owner.namespace, owner.name, owner.uid) == ("team-a", "report", "uid-1")


def test_a_label_without_a_controller_reference_is_no_run() -> None:
    obj = job()
    del obj["metadata"]["ownerReferences"]
    assert run_owner(obj) is None


@pytest.mark.parametrize(
    "change",
    [
        {"controller": False},
        {"kind": "CronJob"},
        {"apiVersion": "batch/v1"},
        {"uid": ""},
        {"uid": "uid-2"},  # disagrees with the label
    ],
)
def test_an_owner_reference_that_is_not_this_tasks_controller_is_no_run(
    change: dict[str, Any],
) -> None:
    obj = job()
    obj["metadata"]["ownerReferences"][0].update(change)
    assert run_owner(obj) is None


def test_another_controller_first_is_no_run() -> None:
    obj = job()
    refs = obj["metadata"]["ownerReferences"]
    refs.insert(
        0, {"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u", "controller": True}
    )
    assert run_owner(obj) is None


def test_a_forged_pod_in_another_namespace_claims_that_namespace() -> None:
    """An ownerReference cannot name a namespace: the engine compares this one."""
    obj = job()
    obj["metadata"]["namespace"] = "team-b"
    owner = run_owner(obj)
    assert owner is not None and owner.namespace == "team-b"


@pytest.mark.parametrize(
    ("annotation", "value", "reason"),
    [
        ("kron.dev/scheduled-time", "not a time", Ignored.ANNOTATION),
        ("kron.dev/scheduled-time", "2026-01-01T00:00:00", Ignored.ANNOTATION),  # no offset
        ("kron.dev/scheduled-time", "0001-01-01T00:00:00+01:00", Ignored.ANNOTATION),
        ("kron.dev/scheduled-time", "1969-12-31T23:59:59Z", Ignored.ANNOTATION),
        ("kron.dev/scheduled-time", "2026-01-01T00:00:00.5Z", Ignored.ANNOTATION),
        ("kron.dev/scheduled-time", "2026-01-01T00:00:01Z", Ignored.NAME),
        ("kron.dev/attempt", "-1", Ignored.ANNOTATION),
        ("kron.dev/attempt", "101", Ignored.ANNOTATION),
        ("kron.dev/attempt", "1e3", Ignored.ANNOTATION),
        ("kron.dev/attempt", "3", Ignored.NAME),
        ("kron.dev/trigger", "magic", Ignored.ANNOTATION),
        ("kron.dev/trigger", "manual", Ignored.NAME),
    ],
)
def test_malformed_or_inconsistent_annotations_make_it_no_run(
    annotation: str, value: str, reason: Ignored
) -> None:
    obj = job()
    obj["metadata"]["annotations"][annotation] = value
    assert read_run(RunKind.JOB, obj, "report") == reason


def test_annotations_of_the_wrong_type_make_it_no_run() -> None:
    obj = job()
    obj["metadata"]["annotations"]["kron.dev/attempt"] = 2
    assert read_run(RunKind.JOB, obj, "report") == Ignored.ANNOTATION
    obj["metadata"]["annotations"] = ["x"]
    assert read_run(RunKind.JOB, obj, "report") == Ignored.ANNOTATION


def test_a_run_scheduled_far_after_it_was_created_is_no_run() -> None:
    """The forgery that silenced a task: a far-future scheduled time on a fresh object."""
    future = 4102444800  # 2100-01-01
    obj = job(CreateRun(f"report-{future}", future, 0, Trigger.SCHEDULE, float(future)))
    assert read_run(RunKind.JOB, obj, "report") == Ignored.FUTURE


def test_a_little_clock_skew_is_tolerated() -> None:
    obj = as_created(build_run(TASK, JOB_SPEC, CREATE), created="2025-12-31T23:58:00Z")
    assert not isinstance(read_run(RunKind.JOB, obj, "report"), Ignored)


def test_the_name_must_be_the_one_kron_gives_the_tick() -> None:
    obj = job()
    obj["metadata"]["name"] = "report-1767225600"  # attempt 2 says -r2
    assert read_run(RunKind.JOB, obj, "report") == Ignored.NAME
    assert read_run(RunKind.JOB, job(), "other-task") == Ignored.NAME


def test_a_manual_run_has_the_manual_name_shape() -> None:
    name = manual_run_name("report", "token-1")
    obj = job(CreateRun(name, NOMINAL, 0, Trigger.MANUAL, float(NOMINAL)))
    assert not isinstance(read_run(RunKind.JOB, obj, "report"), Ignored)
    obj["metadata"]["name"] = "report-mzzzzzzzzzz"
    assert read_run(RunKind.JOB, obj, "report") == Ignored.NAME


def test_garbage_status_reads_as_an_active_run() -> None:
    obj = job()
    obj["status"] = {"conditions": ["x", {"type": "Complete", "status": 1}], "startTime": 5}
    run = read_run(RunKind.JOB, obj, "report")
    assert not isinstance(run, Ignored) and run.phase is RunPhase.ACTIVE


def test_long_failure_messages_are_cut() -> None:
    pod = as_created(build_run(TASK, POD_SPEC, CREATE))
    pod["status"] = {"phase": "Failed", "message": "x" * 100_000}
    run = read_run(RunKind.POD, pod, "report")
    assert not isinstance(run, Ignored) and len(run.message) == 1024


def test_a_counted_run_reads_back_with_its_number_in_the_max_runs_count() -> None:
    counted = CreateRun(
        "report-1767225600", NOMINAL, 0, Trigger.SCHEDULE, float(NOMINAL), scheduled_run=7
    )
    obj = job(counted)
    assert obj["metadata"]["annotations"]["kron.dev/scheduled-run"] == "7"
    run = read_run(RunKind.JOB, obj, "report")
    assert not isinstance(run, Ignored) and run.scheduled_run == 7
    uncounted = job(CreateRun("report-1767225600", NOMINAL, 0, Trigger.SCHEDULE, float(NOMINAL)))
    assert "kron.dev/scheduled-run" not in uncounted["metadata"]["annotations"]
    for bad in ("0", "-1", "x", "99999999999", "1e3"):
        obj["metadata"]["annotations"]["kron.dev/scheduled-run"] = bad
        run = read_run(RunKind.JOB, obj, "report")
        assert not isinstance(run, Ignored) and run.scheduled_run is None, bad
