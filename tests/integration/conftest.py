"""Fixtures for tests that run kron against a real control plane."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.cluster import ClusterHandle
from support.operator import OperatorProcess, wait_leading


@pytest.fixture
def operator(
    cluster: ClusterHandle,
    namespace: str,
    crd_installed: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., OperatorProcess]]:
    """Start kron replicas scoped to the test's namespace: `operator()` or
    `operator(name="b", env={...}, lead=False)`. By default this waits until the replica
    leads (tasks created earlier would see their first tick as a caught-up one); with
    `lead=False` only until it is ready, with `ready=False` not at all. `kubeconfig`
    runs it as someone else. All are stopped afterwards; their logs are attached to a
    failing test's report."""
    replicas: list[OperatorProcess] = []

    def start(
        name: str = "kron",
        env: dict[str, str] | None = None,
        lead: bool = True,
        ready: bool = True,
        kubeconfig: str | None = None,
    ) -> OperatorProcess:
        replica = OperatorProcess(
            kubeconfig=kubeconfig or cluster.kubeconfig,
            namespace=namespace,
            log_dir=tmp_path,
            name=name,
            env=env or {},
        )
        replicas.append(replica)
        replica.start(wait_ready=ready)
        if ready and lead:
            wait_leading(replica)
        return replica

    yield start
    for replica in replicas:
        if replica.running():
            replica.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for replica in replicas:
            for path in sorted(tmp_path.glob(f"{replica.name}-*.log")):
                print(f"\n===== {path.name} =====\n{path.read_text(errors='replace')[-20000:]}")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
