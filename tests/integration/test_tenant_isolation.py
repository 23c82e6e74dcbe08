"""One tenant's objects never stop, silence or slow another's, on the real control plane.

Each test puts hostile objects in one namespace (the "hostile" tenant) and a
well-behaved per-second task in another, served by one operator over both. The
well-behaved task must keep firing throughout (and across a restart where the
class of input once broke the index load), and the hostile objects must be reported
on their own tasks, never crash or stall the operator.
"""

from __future__ import annotations

import copy
import json
import signal
import socket
import time
from datetime import datetime
from typing import Any

from kron.api.constants import MAX_STATUS_BYTES
from support.cluster import ClusterHandle
from support.creation_order import FieldHistory
from support.operator import OperatorProcess
from support.tasks import apply, condition, get_task, job_task, runs, status, wait_condition
from support.wait import wait_until


def serve_both(operator: Any, hostile: str, neighbour: str, **env: str) -> OperatorProcess:
    replica: OperatorProcess = operator(env={"KRON_NAMESPACES": f"{hostile},{neighbour}", **env})
    return replica


def fired(cluster: ClusterHandle, namespace: str, task: str) -> int:
    return int((status(cluster, namespace, task).get("counts") or {}).get("fired", 0))


def keeps_firing(cluster: ClusterHandle, namespace: str, task: str, more: int = 3) -> None:
    """The task fires `more` more runs (per-second, so within seconds)."""
    start = fired(cluster, namespace, task)
    wait_until(
        lambda: fired(cluster, namespace, task) >= start + more,
        timeout=45,
        message=f"{namespace}/{task} keeps firing",
    )


def missed(cluster: ClusterHandle, namespace: str, task: str) -> int:
    return int((status(cluster, namespace, task).get("counts") or {}).get("missed", 0))


def deep_task(name: str, depth: int) -> str:
    """A task whose template nests `depth` levels (built as text: json.dumps would recurse)."""
    inner = '{"a":' * depth + "1" + "}" * depth
    container = '{"name":"main","image":"busybox","x":' + inner + "}"
    return (
        '{"apiVersion":"kron.dev/v1alpha1","kind":"ScheduledTask",'
        f'"metadata":{{"name":"{name}"}},'
        '"spec":{"schedule":"* * * * * *","jobTemplate":{"spec":{"template":{"spec":'
        '{"restartPolicy":"Never","containers":[' + container + "]}}}}}}"
    )


def status_bytes(cluster: ClusterHandle, namespace: str, task: str) -> int:
    return len(json.dumps(status(cluster, namespace, task)).encode())


def test_hostile_tasks_are_reported_on_their_own_and_survive_a_restart(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    """Each of these once crashed the index load or the engine, or grew the status:
    start instants the API server admits but datetime cannot hold, a template nested
    as deep as the API server allows, catch-up All over an everywhere-excluded backlog,
    a backfill over centuries, a 100 KB run-now token."""
    apply(cluster, other_namespace, job_task("steady", "* * * * * *", duration="100ms"))
    hostile = [
        job_task("year-one", "* * * * * *", startTime="0001-01-01T00:00:00+01:00"),
        job_task("year-end", "@hourly", endTime="9999-12-31T23:59:59-05:00"),
        job_task(
            "excluded",
            "* * * * * *",
            catchUpPolicy="All",
            excludeSchedules=["* * * * *"],
        ),
        job_task(
            "backfill",
            "0 0 29 2 *",
            timeZone="Australia/Lord_Howe",
            annotations={"kron.dev/backfill": "1800-01-01T00:00:00Z/9998-01-01T00:00:00Z"},
        ),
        # 100 KB: kubectl apply keeps a copy in last-applied-configuration, and the
        # API server allows 256 KiB of annotations in all.
        job_task("token", "@yearly", annotations={"kron.dev/run-now": "t" * 100_000}),
    ]
    for obj in hostile:
        apply(cluster, namespace, obj)
    cluster.kubectl("create", "-n", namespace, "-f", "-", input=deep_task("deep", 9_985))

    kron = serve_both(operator, namespace, other_namespace)
    keeps_firing(cluster, other_namespace, "steady")
    wait_until(
        lambda: "nested deeper than 32 levels" in _ready_of_deep(cluster, namespace, "deep"),
        timeout=30,
        message="the deep task reported InvalidSpec",
    )
    wait_condition(cluster, namespace, "year-one", status="True", reason="Scheduled")
    wait_condition(cluster, namespace, "year-end", status="True", reason="Scheduled")
    wait_until(
        lambda: "InvalidBackfill" in _event_reasons(cluster, namespace, "backfill"),
        timeout=30,
        message="the centuries-long backfill refused with an Event",
    )
    wait_until(
        lambda: runs(cluster, namespace, "token"), timeout=30, message="the token's manual run"
    )
    for obj in hostile:
        name = obj["metadata"]["name"]
        assert status_bytes(cluster, namespace, name) < MAX_STATUS_BYTES, name
    assert status_bytes(cluster, namespace, "token") < 8_000

    # These objects once made every replica exit while loading its index.
    kron.kill()
    kron.start()
    wait_until(kron.leading, timeout=30, message="the restarted replica leads")
    keeps_firing(cluster, other_namespace, "steady")
    assert kron.metric("kron_task_errors_total") == 0
    assert kron.running()


def test_a_forged_run_in_another_namespace_never_silences_a_task(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    """Found: a Pod in namespace B labelled with a task of A and a far-future
    scheduled time moved that task's cursor to 2100: it never fired again."""
    kron = serve_both(operator, namespace, other_namespace)
    apply(cluster, namespace, job_task("victim", "* * * * * *", duration="100ms"))
    keeps_firing(cluster, namespace, "victim", more=2)
    victim = get_task(cluster, namespace, "victim")["metadata"]
    future = "2100-01-01T00:00:00Z"
    for target, pod in (
        (other_namespace, _forged_pod(victim, "victim-4102444800", future, owner=True)),
        (namespace, _forged_pod(victim, "victim-4102444800", future, owner=True)),
        (namespace, _forged_pod(victim, "victim-4102444801", future, owner=False)),
    ):
        cluster.kubectl("create", "-n", target, "-f", "-", input=json.dumps(pod))
    wait_until(
        lambda: kron.metric("kron_runs_ignored_total") >= 3,
        timeout=30,
        message="the three forged Pods ignored",
    )
    assert kron.metric("kron_runs_ignored_total", reason="namespace") >= 1
    assert kron.metric("kron_runs_ignored_total", reason="future") >= 1
    assert kron.metric("kron_runs_ignored_total", reason="owner") >= 1
    keeps_firing(cluster, namespace, "victim", more=3)
    last = status(cluster, namespace, "victim")["lastScheduleTime"]
    assert datetime.fromisoformat(last).year < 2100


def test_fixing_an_invalid_task_fires_no_backlog(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    """Found: a per-second task fixed a day after it was created fired 86,400 runs."""
    kron = serve_both(operator, namespace, other_namespace)
    apply(cluster, other_namespace, job_task("steady", "* * * * * *", duration="100ms"))
    apply(cluster, namespace, job_task("broken", "* * * * * *", timeZone="Mars/Olympus_Mons"))
    wait_condition(cluster, namespace, "broken", status="False", reason="InvalidTimeZone")
    keeps_firing(cluster, other_namespace, "steady", more=5)  # time passes for the backlog
    fixed_at = time.time()
    fixed = job_task(
        "broken", "* * * * * *", timeZone="UTC", duration="100ms", successfulRunsHistoryLimit=100
    )
    apply(cluster, namespace, fixed)
    wait_condition(cluster, namespace, "broken", status="True", reason="Scheduled")
    keeps_firing(cluster, namespace, "broken", more=2)
    scheduled = [
        datetime.fromisoformat(j["metadata"]["annotations"]["kron.dev/scheduled-time"]).timestamp()
        for j in runs(cluster, namespace, "broken")
    ]
    assert scheduled and min(scheduled) >= int(fixed_at) - 1, (fixed_at, sorted(scheduled)[:3])
    # One run per second since the fix, not the seconds it spent broken as well.
    assert fired(cluster, namespace, "broken") <= time.time() - fixed_at + 2
    assert missed(cluster, namespace, "broken") == 0
    assert kron.metric("kron_task_errors_total") == 0


def test_a_run_the_api_server_refuses_is_a_failed_run_not_one_in_flight(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    """A template the schema admits but the Job API refuses (an invalid container
    name): every tick is a failed run with the server's reason, nothing stays active."""
    serve_both(operator, namespace, other_namespace)
    apply(cluster, other_namespace, job_task("steady", "* * * * * *", duration="100ms"))
    bad = copy.deepcopy(job_task("refused", "* * * * * *"))
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["name"] = "NOT_DNS"
    apply(cluster, namespace, bad)
    wait_until(
        lambda: (
            int((status(cluster, namespace, "refused").get("counts") or {}).get("failed", 0)) >= 3
        ),
        timeout=45,
        message="three refused runs counted as failed",
    )
    current = status(cluster, namespace, "refused")
    # Nothing refused stays active: at most the newest tick's create is on its way.
    failed = {h["name"] for h in current["history"] if h["result"] == "Failed"}
    assert len(current.get("active", [])) <= 1
    assert not failed & {a["name"] for a in current.get("active", [])}
    assert current["history"][0]["message"].startswith("create rejected:")
    assert condition(cluster, namespace, "refused", "Degraded")["status"] == "True"
    keeps_firing(cluster, other_namespace, "steady")


def test_a_leader_paused_past_its_lease_never_writes_an_older_status(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    """Seen once in a chaos run: a leader resumed after SIGSTOP wrote one status with
    an older history over the new leader's. Its writes are fenced by its own clock,
    and every status write is conditional on the version it was computed from."""
    both = {"KRON_NAMESPACES": f"{namespace},{other_namespace}"}
    a: OperatorProcess = operator(name="a", env=both)
    b: OperatorProcess = operator(name="b", env=both, lead=False)
    apply(cluster, other_namespace, job_task("steady", "* * * * * *", duration="100ms"))
    keeps_firing(cluster, other_namespace, "steady")
    assert a.process is not None
    a.process.send_signal(signal.SIGSTOP)
    history = FieldHistory(
        cluster,
        "scheduledtask",
        other_namespace,
        "steady",
        (".status.lastScheduleTime", ".status.counts.fired"),
    )
    try:
        wait_until(b.leading, timeout=30, message="b takes over while a is paused")
        keeps_firing(cluster, other_namespace, "steady")
        history.start()
    finally:
        a.process.send_signal(signal.SIGCONT)
    try:
        # Every status the task passes through while a resumes and steps down, and
        # a few of b's writes after: the watch sees each write, in commit order.
        wait_until(lambda: not a.leading(), timeout=30, message="a stands by after resuming")
        after = len(history.snapshot()) + 3
        wait_until(lambda: len(history.snapshot()) >= after, timeout=30, message="b writes on")
    finally:
        history.stop()
    seen = [(when, int(fired or 0)) for when, fired in history.snapshot()]
    assert seen == sorted(seen), seen
    settled = _writes(a)
    keeps_firing(cluster, other_namespace, "steady")
    assert _writes(a) == settled, "the resumed replica kept writing as a standby"


def test_malformed_http_on_the_metrics_port_does_not_disturb_firing(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    kron = serve_both(operator, namespace, other_namespace)
    apply(cluster, other_namespace, job_task("steady", "* * * * * *", duration="100ms"))
    for garbage in (b"\x00\xff" * 2048, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", kron.port), timeout=5) as conn:
            conn.sendall(garbage)
    keeps_firing(cluster, other_namespace, "steady")
    assert kron.probe("/healthz")[0] == 200
    assert "Traceback" not in kron.log()


def _ready_of_deep(cluster: ClusterHandle, namespace: str, name: str) -> str:
    """The Ready condition of a task too deep for this process's json.loads, as text."""
    return cluster.kubectl(
        "get",
        "scheduledtask",
        name,
        "-n",
        namespace,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")]}',
    ).stdout


def _event_reasons(cluster: ClusterHandle, namespace: str, name: str) -> set[str]:
    out = cluster.kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        f"involvedObject.name={name}",
        "-o",
        "json",
    ).stdout
    return {e["reason"] for e in json.loads(out)["items"]}


def _forged_pod(task: dict[str, Any], name: str, scheduled: str, *, owner: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {"kron.dev/task-uid": task["uid"], "kron.dev/task": task["name"]},
        "annotations": {
            "kron.dev/scheduled-time": scheduled,
            "kron.dev/attempt": "0",
            "kron.dev/trigger": "schedule",
        },
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "kron.dev/v1alpha1",
                "kind": "ScheduledTask",
                "name": task["name"],
                "uid": task["uid"],
                "controller": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox"}],
        },
    }


def _writes(replica: OperatorProcess) -> float:
    """Writes this replica sent to runs, tasks' status and Events (not its Lease)."""
    return sum(
        replica.metric("kron_api_requests_total", verb=verb, resource=resource)
        for verb, resource in (
            ("POST", "jobs"),
            ("POST", "pods"),
            ("PATCH", "scheduledtasks/status"),
            ("POST", "events"),
            ("PATCH", "events"),
            ("DELETE", "jobs"),
        )
    )
