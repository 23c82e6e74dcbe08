"""Cluster objects the harness creates once the components run: the simulated Nodes.

kwok simulates kubelets but creates no Nodes, so ``up`` creates them: no taints (any Pod
schedules), generous capacity (a benchmark's thousands of Pods fit), and kwok's
annotation so it manages them. Readiness is then checked from the API's point of view:
the Nodes are Ready and the ``default`` ServiceAccount exists (Pods are rejected in a
namespace until it does).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from localcluster.components import KWOK_NODE_ANNOTATION

NODE_LABEL = "sim.kron.dev/node"
NODE_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}


class BootstrapError(RuntimeError):
    pass


def node_name(index: int) -> str:
    return f"kron-sim-{index}"


def node_manifest(index: int) -> dict[str, Any]:
    name = node_name(index)
    key, value = KWOK_NODE_ANNOTATION
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {key: value},
            "labels": {
                NODE_LABEL: "true",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {},
        # A Node is the one kind whose status may be set at create; kwok keeps it.
        "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
    }


class Kubectl:
    """Just enough kubectl for bootstrapping, against the admin kubeconfig."""

    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise BootstrapError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


def create_nodes(kubectl: Kubectl, count: int) -> None:
    manifests = [node_manifest(i) for i in range(count)]
    kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))


def _poll(check: Callable[[], str | None], *, timeout: float, what: str) -> None:
    """Call ``check`` until it returns None (done); it returns what it still waits for."""
    deadline = time.monotonic() + timeout
    pending: str | None = "not checked yet"
    while time.monotonic() < deadline:
        try:
            pending = check()
        except (BootstrapError, subprocess.TimeoutExpired) as exc:
            pending = str(exc)
        if pending is None:
            return
        time.sleep(0.2)
    raise BootstrapError(f"timed out after {timeout:.0f}s waiting for {what}: {pending}")


def wait_nodes_ready(kubectl: Kubectl, count: int, *, timeout: float) -> None:
    def pending() -> str | None:
        nodes = json.loads(kubectl("get", "nodes", "-l", f"{NODE_LABEL}=true", "-o", "json"))
        ready = {
            n["metadata"]["name"]
            for n in nodes["items"]
            for c in n.get("status", {}).get("conditions") or []
            if c.get("type") == "Ready" and c.get("status") == "True"
        }
        missing = [node_name(i) for i in range(count) if node_name(i) not in ready]
        return f"not Ready: {', '.join(missing)}" if missing else None

    _poll(pending, timeout=timeout, what=f"{count} simulated nodes to be Ready")


def wait_default_service_account(kubectl: Kubectl, *, timeout: float) -> None:
    def pending() -> str | None:
        names = kubectl("get", "serviceaccounts", "-n", "default", "-o", "name").split()
        return None if "serviceaccount/default" in names else "no default ServiceAccount"

    _poll(pending, timeout=timeout, what="the default ServiceAccount")
