"""Fixtures of the chart tests: the pinned helm, stand-in monitoring CRDs, extra namespaces."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chart.helm import Helm
from kron.api.constants import CALENDAR_CRD_NAME, CRD_NAME
from kron.api.crd import render_operator_crds
from kron.api.policy import POLICY_CRD_NAME
from kron.api.policy.generated import render_policy_crd
from localcluster.binaries import BinariesError, resolve
from support.cluster import ClusterHandle
from support.wait import wait_until

MONITORING_CRDS = Path(__file__).parent / "crds" / "monitoring.coreos.com.yaml"


def _helm_binary(cluster: ClusterHandle) -> Path:
    candidates = []
    if cluster.bin_dir is not None:
        candidates.append(cluster.bin_dir / "helm")
    with contextlib.suppress(BinariesError):
        candidates.append(resolve(build=False) / "helm")
    found = shutil.which("helm")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file():
            return path
    pytest.fail("no helm: build the pinned binaries (make binaries) or put helm on PATH")


@pytest.fixture(scope="session")
def helm(cluster: ClusterHandle) -> Helm:
    """The pinned helm, talking to the test cluster."""
    return Helm(_helm_binary(cluster), cluster.kubeconfig)


@pytest.fixture(scope="session")
def crd_installed(cluster: ClusterHandle) -> str:
    """The ScheduledTask CRD as generated from the models, applied and Established."""
    cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-", input=render_operator_crds()
    )
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        f"crd/{CRD_NAME}",
        f"crd/{CALENDAR_CRD_NAME}",
        "--timeout=60s",
    )
    return CRD_NAME


@pytest.fixture(scope="session")
def policy_crd_installed(cluster: ClusterHandle, crd_installed: str) -> str:
    """The ScheduledTaskPolicy CRD (the admission policy's parameters), Established,
    with the ScheduledTask CRD it is about."""
    cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-", input=render_policy_crd()
    )
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/{POLICY_CRD_NAME}", "--timeout=60s"
    )
    return POLICY_CRD_NAME


@pytest.fixture(scope="session")
def monitoring_crds(cluster: ClusterHandle) -> None:
    """ServiceMonitor and PrometheusRule kinds (stand-ins; see the file), Established.

    Left installed at the end: other sessions on the same cluster may be using them."""
    cluster.kubectl("apply", "--server-side", "-f", str(MONITORING_CRDS))
    for name in ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"):
        cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")


@pytest.fixture
def make_namespace(cluster: ClusterHandle) -> Iterator[Callable[..., str]]:
    """Create more fresh namespaces (`make_namespace("tenant-b", labels={...})`), all
    deleted afterwards without waiting."""
    made: list[str] = []

    def make(stem: str, labels: dict[str, str] | None = None) -> str:
        name = f"t-{stem}-{secrets.token_hex(3)}"
        all_labels = {"kron.dev/test-namespace": "true", **(labels or {})}
        label_lines = "".join(f"    {k}: {v!r}\n" for k, v in all_labels.items())
        cluster.kubectl(
            "apply",
            "-f",
            "-",
            input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n"
            + label_lines,
        )
        made.append(name)
        wait_until(
            lambda: (
                cluster.kubectl("get", "sa", "default", "-n", name, check=False).returncode == 0
            ),
            timeout=60,
            message=f"default ServiceAccount in namespace {name}",
        )
        return name

    yield make
    for name in made:
        cluster.kubectl(
            "delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False
        )
