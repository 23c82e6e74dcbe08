"""What the chart's probes assume of kron: a standby replica stays live.

The chart points the liveness probe at /healthz on every replica. A standby that
answered 500 there would be restarted by the kubelet every few minutes, for nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kron.app import STALL_LIMIT
from support.cluster import ClusterHandle
from support.operator import OperatorProcess, wait_leading
from support.wait import wait_until


@pytest.mark.slow
def test_standby_replica_stays_live_past_the_stall_limit(
    cluster: ClusterHandle, namespace: str, crd_installed: str, tmp_path: Path
) -> None:
    replicas = [
        OperatorProcess(
            kubeconfig=cluster.kubeconfig, namespace=namespace, log_dir=tmp_path, name=name
        )
        for name in ("a", "b")
    ]
    try:
        for replica in replicas:
            replica.start()
        wait_until(
            lambda: sum(r.leading() for r in replicas) == 1, timeout=30, message="one leader"
        )
        (standby,) = [r for r in replicas if not r.leading()]
        (leader,) = [r for r in replicas if r is not standby]
        wait_leading(leader)
        until = time.monotonic() + STALL_LIMIT + 5
        while time.monotonic() < until:
            code = standby._get("/healthz")
            assert code == 200, f"standby /healthz answered {code}"
            assert leader._get("/healthz") == 200
            time.sleep(0.5)  # the probing interval, not a wait for a condition
    finally:
        for replica in replicas:
            if replica.running():
                replica.stop()
