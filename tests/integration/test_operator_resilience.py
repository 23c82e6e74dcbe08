"""kron survives what production does to it: kill -9, failover, API outages, watch expiry.

The property every test checks is the product's promise: no tick ever produces two
runs (no two runs share a scheduled time), and ticks nobody could fire are either
caught up under catchUpPolicy or counted missed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from localcluster import LocalCluster
from support.cluster import ClusterHandle
from support.operator import wait_leading
from support.tasks import apply, job_task, runs, status
from support.wait import wait_until


def _scheduled_times(cluster: ClusterHandle, namespace: str, task: str) -> list[int]:
    return [
        int(
            datetime.fromisoformat(
                j["metadata"]["annotations"]["kron.dev/scheduled-time"]
            ).timestamp()
        )
        for j in runs(cluster, namespace, task)
        if j["metadata"]["annotations"]["kron.dev/trigger"] in ("schedule", "catch-up")
    ]


def _no_duplicate_ticks(cluster: ClusterHandle, namespace: str, task: str) -> list[int]:
    times = _scheduled_times(cluster, namespace, task)
    duplicated = [t for t, n in Counter(times).items() if n > 1]
    assert duplicated == [], f"ticks with two runs: {duplicated}"
    return times


def _fired(cluster: ClusterHandle, namespace: str, task: str) -> int:
    return int(status(cluster, namespace, task).get("counts", {}).get("fired", 0))


def _catch_ups(cluster: ClusterHandle, namespace: str, task: str) -> int:
    return sum(
        1
        for j in runs(cluster, namespace, task)
        if j["metadata"]["annotations"]["kron.dev/trigger"] == "catch-up"
    )


def test_kill_9_and_restart_never_duplicates_and_catches_up_latest(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    kron = operator()
    apply(
        cluster,
        namespace,
        job_task("steady", "* * * * * *", duration="100ms", successfulRunsHistoryLimit=50),
    )
    wait_until(
        lambda: len(_scheduled_times(cluster, namespace, "steady")) >= 3,
        timeout=30,
        message="three runs",
    )
    kron.kill()
    catch_ups_before = _catch_ups(cluster, namespace, "steady")
    missed_before = status(cluster, namespace, "steady")["counts"]["missed"]
    down_from = max(_scheduled_times(cluster, namespace, "steady"))
    wait_until(
        lambda: datetime.now().timestamp() > down_from + 4,
        timeout=10,
        message="four ticks pass while down",
    )
    kron.start()  # it leads once the killed replica's Lease expires
    wait_until(
        lambda: max(_scheduled_times(cluster, namespace, "steady")) > down_from + 4,
        timeout=30,
        message="firing again after the restart",
    )
    _no_duplicate_ticks(cluster, namespace, "steady")
    # Latest: of the ticks nobody fired, only the most recent runs; the rest are counted.
    assert _catch_ups(cluster, namespace, "steady") - catch_ups_before == 1
    wait_until(
        lambda: status(cluster, namespace, "steady")["counts"]["missed"] - missed_before >= 3,
        timeout=20,
        message="the ticks nobody fired counted missed",
    )


def test_standby_takes_over_when_the_leader_is_killed(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    a = operator(name="a")
    b = operator(name="b", lead=False)
    apply(
        cluster,
        namespace,
        job_task("ha", "* * * * * *", duration="100ms", successfulRunsHistoryLimit=50),
    )
    wait_until(lambda: a.leading() != b.leading(), timeout=30, message="exactly one leader")
    leader, standby = (a, b) if a.leading() else (b, a)
    wait_until(lambda: _fired(cluster, namespace, "ha") >= 2, timeout=30, message="leader fires")
    wait_until(
        lambda: leader.metric("kron_runs_finished_total", result="Succeeded") >= 1,
        timeout=30,
        message="the leader counts a finished run",
    )
    # The standby watches the same runs finish; only the leader counts them.
    assert standby.metric("kron_runs_finished_total") == 0
    assert standby.metric("kron_api_requests_total", resource="leases") >= 1
    leader.kill()
    wait_leading(standby, timeout=30)
    fired = _fired(cluster, namespace, "ha")
    wait_until(
        lambda: _fired(cluster, namespace, "ha") >= fired + 3, timeout=30, message="standby fires"
    )
    _no_duplicate_ticks(cluster, namespace, "ha")


def test_graceful_stop_hands_over_within_a_retry_period(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    a = operator(name="a")
    b = operator(name="b", lead=False)
    apply(cluster, namespace, job_task("handover", "* * * * * *", duration="100ms"))
    assert a.stop() == 0
    wait_leading(b, timeout=10)
    fired = _fired(cluster, namespace, "handover")
    wait_until(
        lambda: _fired(cluster, namespace, "handover") > fired, timeout=20, message="b fires"
    )


def test_two_replicas_without_election_still_never_duplicate(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    solo = {"KRON_LEADER_ELECTION": "false"}
    operator(name="a", env=solo)
    operator(name="b", env=solo)  # without election both lead
    apply(
        cluster,
        namespace,
        job_task("twice", "* * * * * *", duration="100ms", successfulRunsHistoryLimit=50),
    )
    wait_until(
        lambda: len(_scheduled_times(cluster, namespace, "twice")) >= 6,
        timeout=30,
        message="six runs",
    )
    _no_duplicate_ticks(cluster, namespace, "twice")


def test_api_server_restart_mid_run_resumes_without_duplicates(
    cluster: ClusterHandle, namespace: str, operator, local_cluster: LocalCluster
) -> None:
    kron = operator()
    apply(
        cluster,
        namespace,
        job_task("outage", "* * * * * *", duration="100ms", successfulRunsHistoryLimit=100),
    )
    wait_until(
        lambda: len(_scheduled_times(cluster, namespace, "outage")) >= 2,
        timeout=30,
        message="firing",
    )
    local_cluster.kill("kube-apiserver")
    local_cluster.start("kube-apiserver")
    local_cluster.wait_healthy("kube-apiserver", timeout=120)
    resumed_from = datetime.now().timestamp()
    wait_until(
        lambda: max(_scheduled_times(cluster, namespace, "outage")) > resumed_from + 2,
        timeout=60,
        message="firing again after the API server came back",
    )
    _no_duplicate_ticks(cluster, namespace, "outage")
    assert kron.running()


def test_watches_that_expire_are_reopened(cluster: ClusterHandle, namespace: str, operator) -> None:
    # The API server ends every watch after 2 s here; runs must still be seen finishing.
    operator(env={"KRON_WATCH_TIMEOUT": "2"})
    apply(cluster, namespace, job_task("rewatch", "*/2 * * * * *", duration="100ms"))
    wait_until(
        lambda: status(cluster, namespace, "rewatch").get("counts", {}).get("succeeded", 0) >= 5,
        timeout=60,
        message="five completions seen across expiring watches",
    )


KRON_NAMESPACED_RULES = """\
rules:
- {apiGroups: [kron.dev], resources: [scheduledtasks], verbs: [get, list, watch, patch]}
- {apiGroups: [kron.dev], resources: [scheduledtasks/status], verbs: [get, patch]}
- {apiGroups: [kron.dev], resources: [calendars], verbs: [get, list, watch]}
- {apiGroups: [batch], resources: [jobs], verbs: [get, list, watch, create, delete]}
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch, create, delete]}
- {apiGroups: ["", events.k8s.io], resources: [events], verbs: [create, patch]}
- {apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, create, update]}
"""


def test_a_replica_started_before_its_rights_waits_unready_then_fires(
    cluster: ClusterHandle, namespace: str, operator, tmp_path
) -> None:
    """A Helm release creates the Deployment and its RoleBinding together: a replica
    that lists before the binding exists must wait, alive and not ready, not exit."""
    kubeconfig = cluster.service_account_kubeconfig(namespace, "kron-late", tmp_path / "kc")
    apply(cluster, namespace, job_task("late", "*/2 * * * * *"))
    replica = operator(kubeconfig=kubeconfig, ready=False)

    def refused() -> str | None:
        code, body = replica.probe("/readyz")
        return body if code == 500 and "forbidden" in body.lower() else None

    reason = wait_until(refused, timeout=30, message="/readyz failing with the listing's 403")
    assert "index not loaded yet" in reason
    assert replica.running() and replica.probe("/healthz")[0] == 200
    cluster.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        f"metadata: {{name: kron-late}}\n{KRON_NAMESPACED_RULES}",
    )
    cluster.kubectl(
        "create",
        "rolebinding",
        "kron-late",
        "-n",
        namespace,
        "--role=kron-late",
        f"--serviceaccount={namespace}:kron-late",
    )
    replica.wait_ready(timeout=60)
    wait_until(lambda: _fired(cluster, namespace, "late") >= 1, timeout=60, message="a fire")
    _no_duplicate_ticks(cluster, namespace, "late")
