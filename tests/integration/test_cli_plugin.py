"""`kubectl kron <verb>` against a real API server: what the plugin writes, and its errors.

Every call goes through the kubectl binary, which finds `kubectl-kron` on PATH, so the
plugin mechanism itself is under test. The operator is not running here: these tests
check the annotations and spec fields the plugin sets (the operator's tests check what
it does with them) and how it renders a status written through the status subresource.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kron.api import ScheduledTask
from kron.api.constants import ANN_BACKFILL, ANN_RESUME, ANN_RUN_NOW
from kron.planner import timeline_for
from kron.schedule import manual_run_name
from support.cluster import ClusterHandle

Obj = dict[str, Any]
RESOURCE = "scheduledtasks.kron.dev"
JOB_TEMPLATE: Obj = {
    "spec": {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
        }
    }
}


def plugin(
    cluster: ClusterHandle,
    *args: str,
    kubeconfig: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``kubectl kron ARGS --kubeconfig ...`` with this environment's kubectl-kron on PATH."""
    if cluster.kubectl_binary is None:
        pytest.fail("no kubectl binary for this cluster", pytrace=False)
    scripts = Path(sys.executable).parent
    environ = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    environ.pop("KUBECONFIG", None)
    environ.update(env or {})
    argv = [str(cluster.kubectl_binary), "kron", *args]
    if kubeconfig != "":
        argv += ["--kubeconfig", kubeconfig or cluster.kubeconfig]
    return subprocess.run(
        argv, capture_output=True, text=True, env=environ, timeout=60, check=False
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert "Traceback" not in done.stderr
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr.strip()


def ok(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return done.stdout.splitlines()


def get(cluster: ClusterHandle, namespace: str, name: str) -> Obj:
    out = cluster.kubectl("get", RESOURCE, name, "-n", namespace, "-o", "json").stdout
    return dict(json.loads(out))


def task_annotations(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, str]:
    return dict(get(cluster, namespace, name)["metadata"].get("annotations") or {})


def write_status(cluster: ClusterHandle, namespace: str, name: str, status: Obj) -> None:
    """Merge ``status`` in through the status subresource, as the operator would."""
    cluster.kubectl(
        "patch", RESOURCE, name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"activeCount": 0, **status}}),
    )  # fmt: skip


@pytest.fixture
def make_task(cluster: ClusterHandle, namespace: str, crd_installed: str) -> Callable[..., str]:
    """``make_task(name, **spec)`` creates a Job-mode task in the test's namespace."""

    def create(name: str = "nightly", **spec: Any) -> str:
        body: Obj = {"schedule": "0 3 * * *", "jobTemplate": copy.deepcopy(JOB_TEMPLATE), **spec}
        obj = {
            "apiVersion": "kron.dev/v1alpha1",
            "kind": "ScheduledTask",
            "metadata": {"name": name},
            "spec": {k: v for k, v in body.items() if v is not None},
        }
        cluster.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))
        return name

    return create


# -- trigger ----------------------------------------------------------------------------


def test_trigger_sets_a_fresh_run_now_token_and_names_the_run(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(concurrencyPolicy="Forbid")
    first = ok(plugin(cluster, "trigger", task, "-n", namespace))
    token = task_annotations(cluster, namespace, task)[ANN_RUN_NOW]
    assert first[0] == f"scheduledtask.kron.dev/{task} triggered: {ANN_RUN_NOW}={token}"
    assert first[1].startswith(f"run: {manual_run_name(task, token)} ")
    assert "concurrencyPolicy Forbid applies" in first[1]

    ok(plugin(cluster, "trigger", task, "-n", namespace))
    assert task_annotations(cluster, namespace, task)[ANN_RUN_NOW] not in ("", token)


def test_trigger_with_token_and_force(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task()
    lines = ok(plugin(cluster, "trigger", task, "-n", namespace, "--token", "deploy-42", "--force"))
    assert task_annotations(cluster, namespace, task)[ANN_RUN_NOW] == "force:deploy-42"
    assert lines[1] == f"run: {manual_run_name(task, 'force:deploy-42')}"

    again = plugin(cluster, "trigger", task, "-n", namespace, "--token", "force:deploy-42")
    assert "already used" in one_line_error(again)


def test_trigger_refuses_a_token_the_operator_already_handled(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task()
    write_status(cluster, namespace, task, {"handledRequests": {"runNow": "old"}})
    assert "already used" in one_line_error(
        plugin(cluster, "trigger", task, "-n", namespace, "--token", "old")
    )
    assert ANN_RUN_NOW not in task_annotations(cluster, namespace, task)


# -- suspend and resume -------------------------------------------------------------------


def test_suspend_sets_spec_suspend_once(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task()
    lines = ok(plugin(cluster, "suspend", task, "-n", namespace))
    assert lines == [f"scheduledtask.kron.dev/{task} suspended (spec.suspend: false -> true)"]
    after = get(cluster, namespace, task)
    assert after["spec"]["suspend"] is True

    lines = ok(plugin(cluster, "suspend", task, "-n", namespace))
    assert lines == [f"scheduledtask.kron.dev/{task} already suspended (no change)"]
    unchanged = get(cluster, namespace, task)
    assert unchanged["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]


def test_resume_clears_suspend_and_sets_a_fresh_resume_token(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(suspend=True)
    lines = ok(plugin(cluster, "resume", task, "-n", namespace))
    obj = get(cluster, namespace, task)
    token = obj["metadata"]["annotations"][ANN_RESUME]
    assert obj["spec"]["suspend"] is False
    assert lines[:2] == [f"scheduledtask.kron.dev/{task} resumed", "spec.suspend: true -> false"]
    assert lines[2].startswith(f"{ANN_RESUME}={token}: ")

    lines = ok(plugin(cluster, "resume", task, "-n", namespace))
    assert lines[1] == "spec.suspend: already false (no change)"
    assert task_annotations(cluster, namespace, task)[ANN_RESUME] != token


def test_resume_says_it_clears_too_many_failures(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(suspendAfterFailures=2)
    ready = {"type": "Ready", "status": "False", "reason": "TooManyFailures", "message": "2 failed"}
    write_status(cluster, namespace, task, {"conditions": [ready], "consecutiveFailures": 2})
    lines = ok(plugin(cluster, "resume", task, "-n", namespace))
    assert lines[2].endswith(": clears the TooManyFailures hold")


# -- backfill -----------------------------------------------------------------------------


def test_backfill_sets_the_interval_and_counts_its_ticks(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(timeZone="Europe/Berlin", excludeSchedules=["* * 25 12 *"])
    done = plugin(
        cluster, "backfill", task, "-n", namespace,
        "--from", "2024-12-20T00:00:00+01:00", "--to", "2024-12-28T00:00:00+01:00",
    )  # fmt: skip
    lines = ok(done)
    value = "2024-12-19T23:00:00Z/2024-12-27T23:00:00Z"
    assert task_annotations(cluster, namespace, task)[ANN_BACKFILL] == value
    assert lines == [
        f"scheduledtask.kron.dev/{task}: {ANN_BACKFILL}={value}",
        "covers 8 ticks from 2024-12-20T00:00:00+01:00 to 2024-12-28T00:00:00+01:00: "
        "7 to run, 1 excluded (recorded, not run)",
    ]

    again = plugin(
        cluster, "backfill", task, "-n", namespace,
        "--from", "2024-12-19T23:00:00Z", "--to", "2024-12-27T23:00:00Z",
    )  # fmt: skip
    assert "already requested" in one_line_error(again)


@pytest.mark.parametrize(
    ("schedule", "start", "end", "code", "mentions"),
    [
        ("0 3 * * *", "2024-12-28T00:00:00Z", "2024-12-20T00:00:00Z", 1, "is before --from"),
        ("0 3 * * *", "2024-12-20T04:00:00Z", "2024-12-20T05:00:00Z", 1, "nothing to backfill"),
        ("* * * * *", "2024-12-20T00:00:00Z", "2024-12-21T00:00:00Z", 1, "more than 1000 ticks"),
        ("0 3 * * *", "last week", "2024-12-21T00:00:00Z", 2, "--from"),
        ("0 3 * * *", "2024-12-20T00:00:00", "2024-12-21T00:00:00Z", 2, "UTC offset"),
    ],
)
def test_backfill_refuses_bad_intervals_without_writing(
    cluster: ClusterHandle,
    namespace: str,
    make_task: Callable[..., str],
    schedule: str,
    start: str,
    end: str,
    code: int,
    mentions: str,
) -> None:
    task = make_task(schedule=schedule)
    done = plugin(cluster, "backfill", task, "-n", namespace, "--from", start, "--to", end)
    assert mentions in one_line_error(done, code)
    assert ANN_BACKFILL not in task_annotations(cluster, namespace, task)


# -- history, status, next -------------------------------------------------------------------

HISTORY_STATUS: Obj = {
    "history": [
        {
            "scheduledTime": "2026-01-02T02:00:00Z",
            "name": "nightly-1767319200",
            "attempt": 0,
            "trigger": "schedule",
            "result": "Succeeded",
            "startTime": "2026-01-02T02:00:01Z",
            "completionTime": "2026-01-02T02:01:13Z",
        },
        {
            "scheduledTime": "2026-01-01T02:00:00Z",
            "trigger": "schedule",
            "result": "Missed",
            "message": "started 900s late, past startingDeadlineSeconds",
        },
    ],
    "counts": {"fired": 4, "succeeded": 3, "missed": 1},
}


def test_history_renders_the_status_history(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(timeZone="Europe/Berlin")
    assert ok(plugin(cluster, "history", task, "-n", namespace))[0].startswith("no history")
    write_status(cluster, namespace, task, HISTORY_STATUS)
    lines = ok(plugin(cluster, "history", task, "-n", namespace))
    assert lines[0].split() == [
        "SCHEDULED", "RESULT", "RUN", "ATTEMPT", "TRIGGER", "DURATION", "MESSAGE",
    ]  # fmt: skip
    assert lines[1].split() == [
        "2026-01-02T03:00:00+01:00", "Succeeded", "nightly-1767319200", "0", "schedule", "1m12s",
    ]  # fmt: skip
    assert lines[2].split(maxsplit=6) == [
        "2026-01-01T03:00:00+01:00", "Missed", "-", "0", "schedule", "-",
        "started 900s late, past startingDeadlineSeconds",
    ]  # fmt: skip
    assert lines[3] == (
        "counts: fired 4, succeeded 3, failed 0, retried 0, missed 1, skipped 0, excluded 0"
    )


def test_status_summarises_conditions(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task()
    generation = get(cluster, namespace, task)["metadata"]["generation"]
    ready = {"type": "Ready", "status": "True", "reason": "Scheduled", "message": "next at 03:00"}
    write_status(
        cluster, namespace, task,
        {"observedGeneration": generation, "conditions": [ready], "consecutiveFailures": 0},
    )  # fmt: skip
    lines = ok(plugin(cluster, "status", task, "-n", namespace))
    assert lines[0] == f"scheduledtask.kron.dev/{task}"
    assert ["Ready", "True", "Scheduled", "next at 03:00"] in [
        line.split(maxsplit=3) for line in lines
    ]


def test_next_computes_from_spec_when_the_operator_has_not_reported(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(timeZone="Europe/Berlin", startTime="2099-01-01T00:00:00Z")
    done = plugin(cluster, "next", task, "-n", namespace, "--count", "3")
    assert ok(done) == [
        "2099-01-01T03:00:00+01:00",
        "2099-01-02T03:00:00+01:00",
        "2099-01-03T03:00:00+01:00",
    ]
    assert "computed from the spec" in done.stderr


def test_next_seeds_jitter_with_the_task_uid(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(schedule="0 * * * *", startTime="2099-01-01T00:00:00Z", jitterSeconds=1800)
    obj = ScheduledTask.from_api(get(cluster, namespace, task))
    assert obj.metadata.uid
    expected = []
    start = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
    for tick in timeline_for(obj.spec, obj.metadata.uid).upcoming(start - 1, 4):
        whole, ms = divmod(round(tick.fire_at * 1000), 1000)
        moment = datetime.fromtimestamp(whole, UTC).replace(microsecond=ms * 1000)
        expected.append(moment.isoformat(timespec="milliseconds"))
    lines = ok(plugin(cluster, "next", task, "-n", namespace, "--count", "4"))
    assert lines == expected
    assert lines != [f"2099-01-01T{h:02d}:00:00.000+00:00" for h in range(4)]


def test_next_prefers_the_operators_upcoming_times(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    task = make_task(timeZone="Europe/Berlin")
    generation = get(cluster, namespace, task)["metadata"]["generation"]
    upcoming = ["2099-06-01T01:00:00Z", "2099-06-02T01:00:00Z", "2099-06-03T01:00:00Z"]
    status = {"observedGeneration": generation, "upcomingScheduleTimes": upcoming}
    write_status(cluster, namespace, task, status)
    done = plugin(cluster, "next", task, "-n", namespace, "--count", "2")
    assert ok(done) == ["2099-06-01T03:00:00+02:00", "2099-06-02T03:00:00+02:00"]
    assert done.stderr == ""

    # Status for an older generation says nothing about the current spec.
    write_status(cluster, namespace, task, {"observedGeneration": generation - 1})
    computed = plugin(cluster, "next", task, "-n", namespace, "--count", "2")
    assert ok(computed) != ["2099-06-01T03:00:00+02:00", "2099-06-02T03:00:00+02:00"]


# -- where and who -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verb",
    [
        ["next"],
        ["trigger"],
        ["suspend"],
        ["resume"],
        ["history"],
        ["status"],
        ["backfill", "--from", "2024-01-01T00:00:00Z", "--to", "2024-01-02T00:00:00Z"],
    ],
    ids=lambda verb: verb[0],
)
def test_missing_task_is_one_line(
    cluster: ClusterHandle, namespace: str, crd_installed: str, verb: list[str]
) -> None:
    done = plugin(cluster, verb[0], "ghost", *verb[1:], "-n", namespace)
    line = one_line_error(done)
    assert line == (
        f'kubectl kron {verb[0]}: error: scheduledtask "ghost" not found in namespace "{namespace}"'
    )


def test_namespace_defaults_to_the_kubeconfig_context(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str], tmp_path: Path
) -> None:
    task = make_task()
    config = tmp_path / "kubeconfig"
    config.write_text(Path(cluster.kubeconfig).read_text(encoding="utf-8"), encoding="utf-8")
    cluster.kubectl(
        "config", "set-context", "--current", f"--namespace={namespace}", f"--kubeconfig={config}"
    )
    ok(plugin(cluster, "suspend", task, kubeconfig=str(config)))
    assert get(cluster, namespace, task)["spec"]["suspend"] is True


def test_forbidden_is_one_line_and_writes_nothing(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str], tmp_path: Path
) -> None:
    task = make_task()
    path = cluster.service_account_kubeconfig(namespace, "nobody", tmp_path / "nobody.kubeconfig")
    line = one_line_error(plugin(cluster, "suspend", task, "-n", namespace, kubeconfig=path))
    assert line.startswith("kubectl kron suspend: error: forbidden: ")
    assert "nobody" in line
    assert not get(cluster, namespace, task)["spec"].get("suspend")


def test_no_kubeconfig_is_one_line(cluster: ClusterHandle, tmp_path: Path) -> None:
    done = plugin(cluster, "history", "nightly", kubeconfig="", env={"HOME": str(tmp_path)})
    assert "no kubeconfig" in one_line_error(done)


def test_next_leaves_out_the_days_of_the_tasks_calendars(
    cluster: ClusterHandle, namespace: str, make_task: Callable[..., str]
) -> None:
    calendar = {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "Calendar",
        "metadata": {"name": "holidays"},
        "spec": {"entries": [{"date": "--12-25", "description": "Christmas Day"}]},
    }
    task = make_task(timeZone="Europe/Berlin", excludeCalendars=["holidays"])
    after = ("--after", "2099-12-24T12:00:00Z", "--count", "2")
    missing = plugin(cluster, "next", task, "-n", namespace, *after)
    assert "CalendarNotFound" not in missing.stderr
    assert "'holidays' does not exist" in one_line_error(missing)
    cluster.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(calendar))
    lines = ok(plugin(cluster, "next", task, "-n", namespace, *after))
    assert lines == ["2099-12-26T03:00:00+01:00", "2099-12-27T03:00:00+01:00"]
