"""`kron next` and `kron crd` start fast: they never import kopf or the Kubernetes client."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from kron.cli import main
code = main(sys.argv[1:])
names = ("kopf", "kubernetes", "aiohttp", "prometheus_client")
heavy = sorted(m for m in names if m in sys.modules)
print("heavy=" + ",".join(heavy))
raise SystemExit(code)
"""


def probe(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_next_and_crd_import_no_kubernetes_client_or_kopf() -> None:
    for argv in (
        ["next", "@hourly", "-n", "1"],
        ["crd"],
        ["next", "0 3 * * *", "--tz", "Nowhere/X"],
    ):
        done = probe(*argv)
        assert done.stdout.splitlines()[-1] == "heavy=", (argv, done.stdout, done.stderr)


def test_the_probe_would_notice_a_heavy_import() -> None:
    # A task name goes to the cluster code, which does import the client.
    done = probe("next", "nightly", "--kubeconfig", "/nonexistent")
    assert "kubernetes" in done.stdout.splitlines()[-1]
