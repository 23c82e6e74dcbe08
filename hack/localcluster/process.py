"""Detached processes that outlive the command that started them, tracked safely by pid.

``make cluster-up`` returns while etcd, the API server and the rest keep running, so each
component is started in its own session through a short-lived ``sh`` that backgrounds it
and exits: the component is re-parented away from us, nobody here has to reap it, and a
Ctrl-C in the terminal that ran ``make`` does not reach it.

A pid alone is not an identity (pids are reused), so a process is recorded as
``(pid, start time in clock ticks since boot)`` read from ``/proc/<pid>/stat``; a process
counts as running only while both match and it is not a zombie.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Backgrounds "$@" with its output appended to $1 and prints its pid. The component
# inherits a new session (start_new_session below) and no terminal.
_LAUNCHER = 'log=$1; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'


@dataclass(frozen=True)
class ProcessRef:
    """A process identity that survives pid reuse: pid plus its start time, and the
    command it was started with (so a changed command line means a restart)."""

    pid: int
    start_ticks: int
    argv: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks, "argv": list(self.argv)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRef:
        return cls(
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            argv=tuple(str(a) for a in data.get("argv", ())),
        )


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if the pid is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return raw[raw.rindex(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    # Field 22 of stat (starttime) is index 19 once pid and comm are dropped.
    return None if fields is None else int(fields[19])


def is_alive(ref: ProcessRef) -> bool:
    """True while the recorded process exists, is the same process, and is not a zombie."""
    fields = _stat_fields(ref.pid)
    if fields is None:
        return False
    state, start = fields[0], int(fields[19])
    return start == ref.start_ticks and state not in ("Z", "X")


def spawn_detached(
    argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ProcessRef:
    """Start ``argv`` detached, output appended to ``log``; return its identity."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting: {' '.join(argv)}\n")
    launched = subprocess.run(
        ["/bin/sh", "-c", _LAUNCHER, "sh", str(log), *argv],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
        check=True,
        timeout=30,
    )
    pid = int(launched.stdout.strip())
    ticks = _start_ticks(pid)
    if ticks is None:
        # It already exited (bad flag, missing library): the log says why.
        return ProcessRef(pid=pid, start_ticks=-1)
    return ProcessRef(pid=pid, start_ticks=ticks)


def send_signal(ref: ProcessRef, sig: signal.Signals) -> None:
    if is_alive(ref):
        with contextlib.suppress(ProcessLookupError):
            os.kill(ref.pid, sig)


def wait_gone(ref: ProcessRef, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_alive(ref):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def terminate(ref: ProcessRef, *, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``grace`` seconds."""
    send_signal(ref, signal.SIGTERM)
    if not wait_gone(ref, grace):
        kill(ref)


def kill(ref: ProcessRef, *, timeout: float = 10.0) -> None:
    """SIGKILL and wait until the process is gone."""
    send_signal(ref, signal.SIGKILL)
    if not wait_gone(ref, timeout):
        raise TimeoutError(f"pid {ref.pid} survived SIGKILL for {timeout}s")


def find_by_argument(fragment: str, executables: Iterable[str]) -> list[ProcessRef]:
    """Running processes whose executable name is in ``executables`` and whose command line
    contains ``fragment``. Used to find components whose state file was lost."""
    names = set(executables)
    found: list[ProcessRef] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if not argv or Path(os.fsdecode(argv[0])).name not in names:
            continue
        if any(fragment in os.fsdecode(a) for a in argv[1:]):
            ticks = _start_ticks(int(entry.name))
            if ticks is not None:
                found.append(ProcessRef(pid=int(entry.name), start_ticks=ticks))
    return found
