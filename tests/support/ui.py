"""`kron ui` as a real process, and Debian's Chromium driven by Playwright.

Tests start `python -m kron ui` as a user would, read the address it prints, and open
it in headless Chromium. The browser is the one the machine's package manager
installed (`/usr/bin/chromium`, Debian's `chromium`; `.ci/run` installs it when
missing); Playwright only drives it and never downloads a browser of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.wait import wait_until

CHROMIUM_ENV = "KRON_CHROMIUM"
CHROMIUM_FLAGS = (
    # Without the network flags Chromium keeps calling home, and this machine's closed
    # network refuses each call; --no-sandbox because CI runs as root. Playwright adds
    # --headless and a fresh, empty --user-data-dir of its own to every launch.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SERVING = re.compile(r"serving (http://\S+)")


def chromium_path() -> str | None:
    """The Chromium to drive: $KRON_CHROMIUM, else chromium on PATH."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class UiProcess:
    """One `kron ui` server. `start()` waits for the address it prints."""

    kubeconfig: str
    namespace: str
    log_dir: Path
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"kron-ui-{id(self)}.log"

    def start(self) -> UiProcess:
        argv = [
            sys.executable,
            "-m",
            "kron",
            "ui",
            "--kubeconfig",
            self.kubeconfig,
            "-n",
            self.namespace,
            *self.extra,
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )

        def address() -> str | None:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"kron ui exited {self.process.returncode}: {self.log()}")
            found = SERVING.search(self.log())
            return found.group(1) if found else None

        self.url = wait_until(address, timeout=30, message=f"kron ui started ({self.log_path})")
        return self

    @property
    def base(self) -> str:
        return self.url.split("/?", 1)[0].rstrip("/")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base + "/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
