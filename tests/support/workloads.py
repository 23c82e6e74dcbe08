"""Jobs and Pods for the simulated nodes, and reading their outcome back through kubectl.

The kwok stages in ``hack/localcluster/stages.yaml`` finish a Pod as its
``sim.kron.dev/*`` annotations say; these builders put the annotations where the stages
look, and the readers wait for what the real Job controller concludes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.wait import wait_until

Kubectl = Callable[..., Any]
IMAGE = "busybox"  # never pulled: kwok runs no containers
DURATION = "sim.kron.dev/duration"
RESULT = "sim.kron.dev/result"
EXIT_CODE = "sim.kron.dev/exit-code"


def apply(kubectl: Kubectl, namespace: str, manifest: dict[str, Any]) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))


def get(kubectl: Kubectl, namespace: str, kind: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout
    )
    return result


def pod_template(annotations: dict[str, str], restart_policy: str) -> dict[str, Any]:
    return {
        "metadata": {"annotations": annotations},
        "spec": {
            "restartPolicy": restart_policy,
            "containers": [{"name": "main", "image": IMAGE}],
        },
    }


def job(name: str, annotations: dict[str, str], *, backoff_limit: int = 0) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": backoff_limit, "template": pod_template(annotations, "Never")},
    }


def bare_pod(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    template = pod_template(annotations, "Never")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **template["metadata"]},
        "spec": template["spec"],
    }


def job_outcome(kubectl: Kubectl, namespace: str, name: str) -> str | None:
    """``Complete`` or ``Failed`` once the Job controller has decided, else None."""
    conditions = get(kubectl, namespace, "job", name).get("status", {}).get("conditions", [])
    for c in conditions:
        if c["type"] in ("Complete", "Failed") and c["status"] == "True":
            return str(c["type"])
    return None


def wait_job_outcome(kubectl: Kubectl, namespace: str, name: str) -> str:
    return wait_until(
        lambda: job_outcome(kubectl, namespace, name),
        timeout=90,
        message=f"Job {namespace}/{name} to finish",
    )


def pods_of_job(kubectl: Kubectl, namespace: str, name: str) -> list[dict[str, Any]]:
    listing = kubectl("get", "pods", "-n", namespace, "-l", f"job-name={name}", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listing.stdout)["items"]
    return items


def wait_pod_terminal(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    def terminal() -> dict[str, Any] | None:
        pod = get(kubectl, namespace, "pod", name)
        return pod if pod.get("status", {}).get("phase") in ("Succeeded", "Failed") else None

    return wait_until(terminal, timeout=90, message=f"Pod {namespace}/{name} to finish")


def terminated_state(pod: dict[str, Any]) -> dict[str, Any]:
    (status,) = pod["status"]["containerStatuses"]
    state: dict[str, Any] = status["state"]["terminated"]
    return state
