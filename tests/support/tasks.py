"""Build ScheduledTasks and read them and their runs back, through kubectl."""

from __future__ import annotations

import json
from typing import Any

import yaml

from support.cluster import ClusterHandle
from support.wait import wait_until

SLEEPER = {"name": "main", "image": "busybox", "command": ["true"]}


def job_task(
    name: str,
    schedule: str | None = "*/2 * * * * *",
    *,
    duration: str = "1s",
    result: str | None = None,
    annotations: dict[str, str] | None = None,
    pod_annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Job-mode task whose simulated Pods run for `duration` (kwok Stages)."""
    pod_ann = {"sim.kron.dev/duration": duration, **(pod_annotations or {})}
    if result is not None:
        pod_ann["sim.kron.dev/result"] = result
    body: dict[str, Any] = {
        "jobTemplate": {
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {"annotations": pod_ann},
                    "spec": {"restartPolicy": "Never", "containers": [dict(SLEEPER)]},
                },
            }
        },
        **spec,
    }
    if schedule is not None and "schedules" not in spec:
        body["schedule"] = schedule
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": body,
    }


def apply(cluster: ClusterHandle, namespace: str, obj: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))


def get_task(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "scheduledtask", name, "-n", namespace, "-o", "json").stdout
    return dict(json.loads(out))


def status(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, Any]:
    return dict(get_task(cluster, namespace, name).get("status") or {})


def condition(cluster: ClusterHandle, namespace: str, name: str, type_: str) -> dict[str, Any]:
    for c in status(cluster, namespace, name).get("conditions") or ():
        if c.get("type") == type_:
            return dict(c)
    return {}


def runs(
    cluster: ClusterHandle, namespace: str, task: str, kind: str = "jobs"
) -> list[dict[str, Any]]:
    out = cluster.kubectl(
        "get", kind, "-n", namespace, "-l", f"kron.dev/task={task}", "-o", "json"
    ).stdout
    items = json.loads(out)["items"]
    return sorted(items, key=lambda o: o["metadata"]["name"])


def run_names(cluster: ClusterHandle, namespace: str, task: str, kind: str = "jobs") -> list[str]:
    return [o["metadata"]["name"] for o in runs(cluster, namespace, task, kind)]


def events(cluster: ClusterHandle, namespace: str, name: str) -> list[dict[str, Any]]:
    out = cluster.kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        f"involvedObject.kind=ScheduledTask,involvedObject.name={name}",
        "-o",
        "json",
    ).stdout
    return list(json.loads(out)["items"])


def event_reasons(cluster: ClusterHandle, namespace: str, name: str) -> set[str]:
    return {e["reason"] for e in events(cluster, namespace, name)}


def wait_condition(
    cluster: ClusterHandle,
    namespace: str,
    name: str,
    type_: str = "Ready",
    *,
    status: str | None = None,
    reason: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Wait until the task's condition has this status and/or reason; return it."""
    wanted = {k: v for k, v in (("status", status), ("reason", reason)) if v is not None}

    def matches() -> dict[str, Any] | None:
        found = condition(cluster, namespace, name, type_)
        return found if found and all(found.get(k) == v for k, v in wanted.items()) else None

    return wait_until(matches, timeout=timeout, message=f"{name}: condition {type_} with {wanted}")
