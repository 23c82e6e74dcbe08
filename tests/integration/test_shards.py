"""Shards: each fires only its own tasks, together all of them, the API server sends
each only its own runs, and changing the shard count (as a rollout does) never fires
a tick twice. The replicas run as the chart runs them (KRON_SHARD_INDEX/COUNT, one
Lease per shard)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kron.k8s.shards import shard_of
from support.cluster import ClusterHandle
from support.operator import OperatorProcess, wait_leading
from support.tasks import apply, get_task, job_task, runs
from support.wait import wait_until

TASKS = [f"t{i}" for i in range(10)]


def shard(operator: Any, index: int, count: int, name: str, lead: bool = True) -> OperatorProcess:
    replica: OperatorProcess = operator(
        name=name,
        lead=lead,
        env={
            "KRON_SHARD_INDEX": str(index),
            "KRON_SHARD_COUNT": str(count),
            "KRON_METRICS_PER_TASK": "true",
        },
    )
    return replica


def fired_by(replica: OperatorProcess, namespace: str) -> set[str]:
    """The tasks this replica created runs for (its per-task metric)."""
    found = set()
    for key, value in replica.metrics().items():
        if key.startswith("kron_task_fires_total{") and value > 0 and namespace in key:
            found.add(key.split('task="', 1)[1].split('"', 1)[0])
    return found


def scheduled_times(cluster: ClusterHandle, namespace: str) -> Counter[tuple[str, str]]:
    return Counter(
        (
            job["metadata"]["labels"]["kron.dev/task"],
            job["metadata"]["annotations"]["kron.dev/scheduled-time"],
        )
        for task in TASKS
        for job in runs(cluster, namespace, task)
        if job["metadata"]["annotations"]["kron.dev/trigger"] in ("schedule", "catch-up")
    )


def all_fired(cluster: ClusterHandle, namespace: str, at_least: int) -> bool:
    return all(len(runs(cluster, namespace, task)) >= at_least for task in TASKS)


def test_shards_split_the_tasks_and_their_watches_and_survive_a_new_shard_count(
    cluster: ClusterHandle, namespace: str, operator: Any
) -> None:
    for task in TASKS:
        apply(
            cluster,
            namespace,
            job_task(task, "* * * * * *", duration="100ms", successfulRunsHistoryLimit=100),
        )
    uids = {task: get_task(cluster, namespace, task)["metadata"]["uid"] for task in TASKS}
    two = [shard(operator, i, 2, f"a{i}") for i in range(2)]
    wait_until(lambda: all_fired(cluster, namespace, 2), timeout=60, message="every task fires")
    for index, replica in enumerate(two):
        mine = {task for task, uid in uids.items() if shard_of(uid, 2) == index}
        assert fired_by(replica, namespace) <= mine, index
        # The API server sent this replica only its own shard's runs.
        assert replica.metric("kron_runs_other_shard_total") == 0
    assert set().union(*(fired_by(r, namespace) for r in two)) == set(TASKS)

    # A rollout to three shards: the new replicas start, the old ones stop. Shard i's
    # Lease is the same whatever the count, so b0 and b1 wait for a0 and a1 to go.
    three = [shard(operator, i, 3, f"b{i}", lead=False) for i in range(3)]
    for replica in two:
        replica.stop()
    for replica in three:
        wait_leading(replica)
    before = {task: len(runs(cluster, namespace, task)) for task in TASKS}
    wait_until(
        lambda: all(len(runs(cluster, namespace, t)) >= before[t] + 2 for t in TASKS),
        timeout=60,
        message="every task fires under three shards",
    )
    for index, replica in enumerate(three):
        mine = {task for task, uid in uids.items() if shard_of(uid, 3) == index}
        assert fired_by(replica, namespace) <= mine, index
        assert replica.metric("kron_runs_other_shard_total") == 0
    twice = [key for key, n in scheduled_times(cluster, namespace).items() if n > 1]
    assert twice == []
