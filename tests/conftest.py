"""pytest wiring shared by every suite: which Kubernetes cluster the integration tests use.

The first that applies wins:
1. ``--cluster=kind``: a kind cluster through pytest-kind (needs Docker; pytest-kind's own
   options apply: ``--kubeconfig`` is then where kind writes its kubeconfig,
   ``--kind-image``, ``--kind-bin``, ``--keep-cluster``...).
2. ``--kubeconfig PATH`` or ``KRON_TEST_KUBECONFIG=PATH``: a cluster you name, used as is.
3. The local control plane (``hack/localcluster``, also forced by ``--cluster=local``):
   reused if running, started otherwise; a cluster this session started is stopped at
   the end unless ``KRON_KEEP_CLUSTER=1``.

The fixtures are lazy: a run that collects only unit tests never starts a cluster. When
no cluster can be had, tests that need one fail with the reason; they never skip.
Tests that use the ``cluster`` fixture are marked ``cluster`` automatically, so
``-m 'not cluster'`` deselects them. Under ``KRON_CI=1`` (.ci/run) a skipped test fails
(the pytest hooks imported from support.ci).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import settings

from kron.api.constants import CALENDAR_CRD_NAME, CRD_NAME
from kron.api.crd import render_operator_crds
from localcluster import LocalCluster
from localcluster.binaries import BinariesError, kubectl_for_external_cluster
from localcluster.cluster import ClusterError
from localcluster.pki import PkiError
from support.ci import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401
from support.cluster import ClusterHandle, KubectlError
from support.wait import wait_until

# Hypothesis' per-example deadline (200 ms) is a timed assertion: on a loaded two-core
# CI machine it failed a pure merge-patch property once. Speed is the benchmarks' job.
settings.register_profile("kron", deadline=None)
settings.load_profile("kron")

KUBECONFIG_ENV = "KRON_TEST_KUBECONFIG"
KEEP_ENV = "KRON_KEEP_CLUSTER"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kron cluster")
    group.addoption(
        "--cluster",
        choices=("local", "kind"),
        default=None,
        help="local: the local control plane (the default unless --kubeconfig or "
        f"{KUBECONFIG_ENV} names a cluster); kind: a kind cluster through pytest-kind",
    )
    # pytest-kind registers --kubeconfig too (a ValueError here); its value is read alike.
    with contextlib.suppress(ValueError):
        group.addoption(
            "--kubeconfig",
            default=None,
            help=f"use the cluster this kubeconfig names (or set {KUBECONFIG_ENV})",
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)


def _no_capture(request: pytest.FixtureRequest) -> AbstractContextManager[Any]:
    """Let progress (a first-time binary build takes many minutes) reach the terminal."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    return capture.global_and_fixture_disabled() if capture else nullcontext()


def _check_reachable(handle: ClusterHandle, what: str) -> None:
    try:
        handle.kubectl("get", "--raw", "/readyz", timeout=30)
    except (KubectlError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{what} is not usable: {exc}", pytrace=False)


def _kind_cluster(request: pytest.FixtureRequest) -> ClusterHandle:
    def give_up(reason: str) -> NoReturn:
        pytest.fail(
            f"--cluster=kind needs {reason} (drop --cluster=kind to use the local control plane)",
            pytrace=False,
        )

    if shutil.which("docker") is None:
        give_up("Docker; `docker` is not on PATH")
    try:
        info = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        give_up("Docker; `docker info` hung for 30s")
    if info.returncode != 0:
        give_up(f"a running Docker daemon: {(info.stderr.strip().splitlines() or ['?'])[-1]}")
    kind = request.getfixturevalue("kind_cluster")  # pytest-kind: creates or reuses it
    kubectl = kubectl_for_external_cluster()
    if kubectl is None:
        kind.ensure_kubectl()
        kubectl = Path(kind.kubectl_path)
    handle = ClusterHandle(str(kind.kubeconfig_path), None, None, kubectl)
    _check_reachable(handle, f"kind cluster {kind.name!r}")
    return handle


def _named_cluster(kubeconfig: str) -> ClusterHandle:
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        pytest.fail(f"kubeconfig {path} (from --kubeconfig/{KUBECONFIG_ENV}) does not exist")
    kubectl = kubectl_for_external_cluster()
    handle = ClusterHandle(str(path.absolute()), None, kubectl.parent if kubectl else None, kubectl)
    _check_reachable(handle, f"the cluster in {path}")
    return handle


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[ClusterHandle]:
    """The Kubernetes cluster for this test session (see the module docstring)."""
    mode = request.config.getoption("cluster")
    named = request.config.getoption("kubeconfig") or os.environ.get(KUBECONFIG_ENV)
    if mode == "kind":
        yield _kind_cluster(request)
        return
    if named and mode != "local":
        yield _named_cluster(named)
        return

    local = LocalCluster()
    started_here = local.status()["server"] is None  # no cluster yet, not merely degraded
    try:
        with _no_capture(request):
            if started_here:
                print("\nstarting the local control plane (hack/localcluster)...", flush=True)
            local.up()
    except (ClusterError, BinariesError, PkiError) as exc:
        pytest.fail(f"the local control plane did not come up: {exc}", pytrace=False)
    handle = ClusterHandle(str(local.kubeconfig), local, local.bin_dir, local.bin_dir / "kubectl")
    yield handle
    if started_here and os.environ.get(KEEP_ENV) != "1":
        local.down()


@pytest.fixture(scope="session")
def kubeconfig(cluster: ClusterHandle) -> str:
    return cluster.kubeconfig


@pytest.fixture
def kubectl(cluster: ClusterHandle) -> Callable[..., Any]:
    return cluster.kubectl


@pytest.fixture(scope="session")
def crd_installed(cluster: ClusterHandle) -> str:
    """The ScheduledTask CRD as generated from the models, applied and Established (shared by the
    integration, chart and image tests)."""
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


@pytest.fixture
def local_cluster(cluster: ClusterHandle) -> Iterator[LocalCluster]:
    """The local harness, for tests that stop, kill or restart components.

    Skips (with the reason) on a cluster we do not run. Afterwards every component is
    running again, whatever the test left behind, so later tests get a whole cluster.
    """
    if cluster.local is None:
        pytest.skip("needs the local control plane (it kills and restarts components)")
    yield cluster.local
    cluster.local.up()


def _namespace_name(test_name: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{stem}-{secrets.token_hex(3)}"


def _create_namespace(cluster: ClusterHandle, name: str) -> None:
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=(
            "apiVersion: v1\nkind: Namespace\n"
            f"metadata:\n  name: {name}\n  labels:\n    kron.dev/test-namespace: 'true'\n"
        ),
    )

    def has_default_service_account() -> bool:
        found = cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False)
        return found.returncode == 0

    # The ServiceAccount admission plugin rejects Pods until `default` exists.
    wait_until(
        has_default_service_account,
        timeout=60,
        message=f"default ServiceAccount in namespace {name}",
    )


@pytest.fixture
def namespace(cluster: ClusterHandle, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace (its default ServiceAccount exists), deleted afterwards without
    waiting for finalization."""
    name = _namespace_name(request.node.name)
    _create_namespace(cluster, name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


@pytest.fixture
def other_namespace(cluster: ClusterHandle, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second fresh namespace: another tenant's, for tests of isolation."""
    name = _namespace_name("other-" + request.node.name)
    _create_namespace(cluster, name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
