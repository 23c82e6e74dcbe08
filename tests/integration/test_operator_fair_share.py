"""Fair share between namespaces: one tenant's herd does not queue another's runs behind it.

One operator serves two namespaces (KRON_NAMESPACES takes a list). Namespace A holds
a herd of tasks due on one second, namespace B a few tasks due on the same second,
created after A's, so that first come, first served would create B's runs last. The
client rate limit is low (20/s, no burst), so A's herd takes several seconds to
drain. Asserted by the order in which the API server created the Jobs (one watch
across both namespaces, resourceVersion order), not by time.
"""

from __future__ import annotations

import math
import time
from typing import Any

import yaml

from support.cluster import ClusterHandle
from support.creation_order import CreationOrder
from support.tasks import job_task
from support.wait import wait_until

HERD = 120
SMALL = 3
QPS = "20"
LABEL = "fair-share.kron.dev/test"
SETUP_S = 35
"""Seconds from now to the herd's second: applying the tasks and their first status
writes at 20 requests/s take about 10 s of it."""
ATTEMPTS = 3
"""Tries at a herd's second, each SETUP_S later, before a slow setup fails the test."""


def daily_at(instant: int) -> str:
    """A 6-field schedule firing every day at `instant` (UTC)."""
    s = instant % 86400
    return f"{s % 60} {s // 60 % 60} {s // 3600} * * *"


def herd_task(name: str, schedule: str, token: str) -> dict[str, Any]:
    task = job_task(name, schedule, timeZone="UTC", concurrencyPolicy="Allow")
    template = task["spec"]["jobTemplate"]
    template["metadata"] = {"labels": {LABEL: token}}
    # No Pods (the Job controller completes a Job of zero completions at once): the
    # test measures kron's fire path, not the scheduler's or kwok's.
    template["spec"].update(completions=0, parallelism=0)
    return task


def apply_all(cluster: ClusterHandle, namespace: str, tasks: list[dict[str, Any]]) -> None:
    cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(tasks), timeout=120
    )


def sentinel_job(token: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"sentinel-{token}", "labels": {LABEL: token}},
        "spec": {
            "suspend": True,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox"}],
                }
            },
        },
    }


def planned_for(cluster: ClusterHandle, namespace: str, instant: int) -> int:
    """Tasks in `namespace` whose status says they fire next at `instant`."""
    out = cluster.kubectl("get", "scheduledtasks", "-n", namespace, "-o", "json").stdout
    items = yaml.safe_load(out)["items"]
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(instant))
    return sum(1 for t in items if (t.get("status") or {}).get("nextScheduleTime") == when)


def herd_on_one_second(
    cluster: ClusterHandle, herd_ns: str, small_ns: str, attempt: int
) -> list[str] | None:
    """Apply (or re-apply) both namespaces' tasks for a second SETUP_S ahead and return
    the order the API server created their runs in; None when applying and planning
    them took past that second (a slow machine: the caller tries again, later)."""
    token = f"{herd_ns[-6:]}-{attempt}"
    cluster.kubectl("apply", "-n", herd_ns, "-f", "-", input=yaml.safe_dump(sentinel_job(token)))
    order = CreationOrder(cluster, "jobs", f"{LABEL}={token}", f"{herd_ns}/sentinel-{token}")
    order.start()
    try:
        instant = math.ceil(time.time()) + SETUP_S
        schedule = daily_at(instant)
        apply_all(
            cluster, herd_ns, [herd_task(f"herd-{i:03d}", schedule, token) for i in range(HERD)]
        )
        apply_all(
            cluster, small_ns, [herd_task(f"small-{i}", schedule, token) for i in range(SMALL)]
        )
        for ns, count in ((herd_ns, HERD), (small_ns, SMALL)):
            wait_until(
                lambda ns=ns, count=count: planned_for(cluster, ns, instant) == count,
                timeout=SETUP_S,
                message=f"every task in {ns} planned for the herd's second",
            )
        if time.time() >= instant - 1:
            return None
        added: list[str] = wait_until(
            lambda: order.snapshot() if len(order.snapshot()) >= HERD + SMALL else None,
            timeout=SETUP_S + 90,
            message=f"all {HERD + SMALL} runs created",
        )
        return added
    finally:
        order.stop()


def test_a_small_namespace_is_created_before_another_namespaces_herd_has_drained(
    cluster: ClusterHandle, namespace: str, other_namespace: str, operator: Any
) -> None:
    herd_ns, small_ns = namespace, other_namespace
    operator(env={"KRON_NAMESPACES": f"{herd_ns},{small_ns}", "KRON_QPS": QPS, "KRON_BURST": "1"})
    for attempt in range(ATTEMPTS):
        added = herd_on_one_second(cluster, herd_ns, small_ns, attempt)
        if added is not None:
            break
    else:
        raise AssertionError(f"setting up took past the herd's second {ATTEMPTS} times")
    assert len(added) == len(set(added)) == HERD + SMALL, added
    small = [i for i, name in enumerate(added) if name.startswith(f"{small_ns}/")]
    assert len(small) == SMALL
    # Served in turns, B's runs are among the first few; first come, first served
    # would have put them after all of A's. A quarter of the herd is the margin.
    assert max(small) < HERD // 4, f"B's runs at positions {small} of {len(added)}"
