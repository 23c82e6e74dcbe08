"""Processes the benchmark runs and watches: kron, the watcher, /proc readings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HACK_DIR = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class BenchError(RuntimeError):
    """A phase could not complete: the benchmark stops and says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Usage:
    """One reading of a process: resident memory and CPU seconds so far."""

    at: float
    rss_mb: float
    cpu_s: float


def usage(pid: int) -> Usage:
    with Path(f"/proc/{pid}/stat").open() as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14, stime 15, rss 24 (1-based, man proc).
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss = int(fields[21]) * PAGE_KB / 1024
    return Usage(time.time(), rss, cpu)


def peak_rss_mb(pid: int) -> float:
    with Path(f"/proc/{pid}/status").open() as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


@dataclass
class Kron:
    """`python -m kron run` scoped to the bench namespaces, as a user would start it."""

    kubeconfig: Path
    namespaces: list[str]
    log_path: Path
    flags: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "kron",
            "run",
            "--kubeconfig",
            str(self.kubeconfig),
            *(["--namespaces", ",".join(self.namespaces)] if self.namespaces else []),
            "--no-leader-election",
            "--metrics-port",
            str(self.port),
            *self.flags,
        ]

    def start(self) -> Kron:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for key in [k for k in env if k.startswith("KRON_")]:
            del env[key]  # the flags say everything; a stray KRON_QPS must not
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.started_at = time.time()
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return int(r.status), r.read().decode()
        except urllib.error.HTTPError as err:
            return int(err.code), ""
        except OSError:
            return 0, ""

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise BenchError(f"kron exited with {self.process.returncode}:\n{tail}")

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from start until /readyz answers 200 (the index is loaded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.get("/readyz")[0] == 200:
                return time.time() - self.started_at
            time.sleep(0.05)
        raise BenchError(f"kron not ready within {timeout}s (log: {self.log_path})")

    def metric(self, name: str) -> float:
        """Sum of every sample of `name` on /metrics."""
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Watcher:
    """The independent watcher (`bench.watcher`) in its own process."""

    kubeconfig: Path
    out: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Watcher:
        ready = self.out.with_suffix(".ready")
        ready.unlink(missing_ok=True)
        self.out.unlink(missing_ok=True)
        log = self.out.with_suffix(".log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(HACK_DIR)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.watcher",
                "--kubeconfig",
                str(self.kubeconfig),
                "--out",
                str(self.out),
                "--ready",
                str(ready),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the watcher did not start (log: {self.out.with_suffix('.log')})")
            time.sleep(0.05)
        return self

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise BenchError(f"the watcher died (log: {self.out.with_suffix('.log')})")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine so far (/proc/stat, all cores)."""
    with Path("/proc/stat").open() as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuShares:
    """Cores each named process, and the machine as a whole, kept busy over a stretch.

    What limits a phase on a machine whose two cores run every component: when the
    machine is busy throughout, the phase's rate is its cores divided by the CPU all
    processes spend per object, and the processes' shares say where that goes."""

    pids: dict[str, int]
    _start: tuple[float, tuple[int, int], dict[str, float]] | None = None

    def start(self) -> CpuShares:
        self._start = (time.time(), machine_jiffies(), self._cpu())
        return self

    def _cpu(self) -> dict[str, float]:
        seconds = {}
        for name, pid in self.pids.items():
            try:
                seconds[name] = usage(pid).cpu_s
            except OSError:
                continue  # gone (a kron stopped meanwhile): left out
        return seconds

    def stop(self, objects: int) -> dict[str, float]:
        """Cores busy per process and for the machine; CPU ms per object for all."""
        assert self._start is not None, "start() first"
        began, (busy0, total0), cpu0 = self._start
        elapsed = max(time.time() - began, 1e-3)
        busy1, total1 = machine_jiffies()
        cores = os.cpu_count() or 1
        busy_cores = (busy1 - busy0) / max(total1 - total0, 1) * cores
        shares = {
            name: round((seconds - cpu0[name]) / elapsed, 3)
            for name, seconds in self._cpu().items()
            if name in cpu0
        }
        return {
            "seconds": round(elapsed, 2),
            "cores": cores,
            "machine_busy_cores": round(busy_cores, 3),
            "machine_cpu_ms_per_object": round(busy_cores * elapsed * 1000 / max(objects, 1), 2),
            **{f"{name}_cores": share for name, share in shares.items()},
        }
