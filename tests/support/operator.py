"""The kron operator as a real process, for integration tests.

Tests drive `python -m kron run` like a user would, with the operator scoped to the
test's namespace and electing its leader through a Lease there, so that killing
it (SIGKILL), restarting it or running two replicas never touches another test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from support.wait import wait_until

OPERATOR_SOURCE_ENV = "KRON_TEST_OPERATOR_SOURCE"
"""A directory holding a `kron` package (e.g. `git worktree add /tmp/old <commit>`, then
/tmp/old/operator): the operators the tests start run that code instead."""
METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class OperatorProcess:
    """One replica. `start()` waits until /readyz answers (the index is loaded)."""

    kubeconfig: str
    namespace: str
    log_dir: Path
    name: str = "kron"
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.starts}.log"

    def start(self, *, wait_ready: bool = True) -> OperatorProcess:
        self.starts += 1
        env = {
            **os.environ,
            "KRON_NAMESPACES": self.namespace,
            "KRON_LEASE_NAMESPACE": self.namespace,
            "KRON_LEASE_NAME": "kron-test",
            "KRON_METRICS_PORT": str(self.port),
            "KRON_LEASE_DURATION": "4",
            "KRON_RENEW_DEADLINE": "3",
            "KRON_RETRY_PERIOD": "0.5",
            "KRON_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        source = os.environ.get(OPERATOR_SOURCE_ENV)
        if source:
            # Run the operator from another source tree (an older commit), to see
            # that a test fails without the fix it pins.
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        env.pop(OPERATOR_SOURCE_ENV, None)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kron", "run", "--kubeconfig", self.kubeconfig],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(
            lambda: self._alive_or_raise() and self._get("/readyz") == 200,
            timeout=timeout,
            message=f"operator {self.name} ready (log: {self.log_path})",
        )

    def _alive_or_raise(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"operator {self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}"
            )
        return True

    def probe(self, path: str) -> tuple[int, str]:
        """(HTTP status, body) of GET `path` on the replica's port; (0, "") if closed."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return int(r.status), r.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode(errors="replace")
        except OSError:
            return 0, ""

    def _get(self, path: str) -> int:
        return self.probe(path)[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def metrics(self) -> dict[str, float]:
        """Every sample on /metrics, keyed `name{labels}` as printed."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            m = METRIC_LINE.match(line)
            if m:
                samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return samples

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels`."""
        total = 0.0
        for key, value in self.metrics().items():
            metric, _, rest = key.partition("{")
            if metric != name:
                continue
            if all(f'{k}="{v}"' in rest for k, v in labels.items()):
                total += value
        return total

    def leading(self) -> bool:
        try:
            return self.metric("kron_leader") == 1.0
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, no Lease release (a crash)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait: a graceful shutdown."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)
        return int(self.process.returncode)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def wait_leading(replica: OperatorProcess, timeout: float = 30) -> None:
    wait_until(replica.leading, timeout=timeout, message=f"{replica.name} leads")


def elapsed(since: float) -> float:
    return time.monotonic() - since
