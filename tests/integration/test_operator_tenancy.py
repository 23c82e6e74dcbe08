"""kron under namespace policy: what the API server refuses is recorded, never retried blindly."""

from __future__ import annotations

from support.cluster import ClusterHandle
from support.tasks import apply, job_task, status, wait_condition
from support.wait import wait_until


def test_a_run_refused_by_resource_quota_is_a_failed_run_with_the_servers_reason(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    cluster.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: one-job\n"
            "spec:\n  hard:\n    count/jobs.batch: '1'\n"
        ),
    )
    operator()
    apply(cluster, namespace, job_task("greedy", "* * * * * *", duration="60s"))
    refused = wait_until(
        lambda: next(
            (
                h
                for h in status(cluster, namespace, "greedy").get("history", [])
                if h["result"] == "Failed" and "quota" in h.get("message", "")
            ),
            None,
        ),
        timeout=40,
        message="a run refused by the quota, in history",
    )
    assert refused["message"].startswith("create rejected:")
    degraded = wait_condition(cluster, namespace, "greedy", "Degraded", status="True")
    assert "quota" in degraded["message"]
