"""`kron run` with a setting that shows itself bad only when used: one line on stderr,
exit 1, no traceback. Each case runs the real `kron run` in a subprocess (it configures
logging and signals, which an in-process run would do to the test process); none of
them reaches a cluster: the kubeconfigs name a port nothing answers on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: local
contexts: [{name: local, context: {cluster: local, user: me}}]
clusters: [{name: local, cluster: {server: "https://127.0.0.1:9", %s}}]
users: [{name: me, user: {token: abc}}]
"""
GOOD = KUBECONFIG % "insecure-skip-tls-verify: true"


def kron_run(tmp_path: Path, kubeconfig: str, *argv: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env |= {"KRON_LEASE_NAMESPACE": "default", "KRON_NAMESPACES": "a"}
    return subprocess.run(
        [sys.executable, "-m", "kron", "run", "--kubeconfig", str(path), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    (line,) = result.stderr.splitlines()
    assert line.startswith("kron run: error: ")
    return line


@pytest.mark.parametrize(
    ("kubeconfig", "argv", "says"),
    [
        (GOOD, ["--context", "prod"], "context 'prod' not found"),
        ("apiVersion: v1\nkind: Config\n", [], "no current context; pass --context"),
        ("clusters: [", [], "not a valid kubeconfig"),
        (
            KUBECONFIG % "certificate-authority-data: 'not base64!'",
            [],
            "cannot use kubeconfig",
        ),
    ],
)
def test_a_kubeconfig_the_client_cannot_use_is_one_line(
    tmp_path: Path, kubeconfig: str, argv: list[str], says: str
) -> None:
    line = one_line_error(kron_run(tmp_path, kubeconfig, "--metrics-port", "0", *argv))
    assert says in line, line


def test_a_metrics_port_another_process_holds_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_line_error(kron_run(tmp_path, GOOD, "--metrics-port", str(port)))
    assert f"--metrics-port (KRON_METRICS_PORT) {port}: Address already in use" in line, line
