"""Regenerate the screenshots of `kron ui` (docs/img/ui-*.png): `make screenshots`.

Brings up the local control plane (or reuses it), fills namespace `kron-demo` with a
few tasks, lets the operator fire them for a while so history and Events exist, then
opens `kron ui` in Debian's headless Chromium and photographs the main pages, one of
them at a phone's width. Everything it starts it stops; the namespace stays (run it
again to refresh, or `kubectl delete ns kron-demo`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from playwright.sync_api import sync_playwright

from kron.api.crd import render_crd
from kron.ui.calendar import zone_changes
from localcluster import LocalCluster

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "img"
NAMESPACE = "kron-demo"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_FOR_SECONDS = 45
WEEK_BEFORE = dt.timedelta(days=3)


def task(name: str, schedule: str, *, result: str = "Succeeded", **spec: Any) -> dict[str, Any]:
    pod = {"sim.kron.dev/duration": "3s"}
    if result == "Failed":
        pod["sim.kron.dev/result"] = "Failed"
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"annotations": pod},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox"}],
                        },
                    },
                }
            },
            **spec,
        },
    }


TASKS = [
    task("nightly-report", "30 2 * * *", timeZone="America/New_York"),
    task("billing-export", "0 3 * * 1-5", timeZone="Europe/Berlin", jitterSeconds=300),
    task("cache-warm", "*/5 * * * *"),
    task("search-reindex", "*/20 * * * * *"),
    task("flaky-import", "*/10 * * * * *", result="Failed", suspendAfterFailures=3),
    task("invoice-mailer", "0 * * * *"),
    task("metrics-rollup", "0 * * * *"),
    task("thumbnailer", "0 * * * *"),
    task("audit-archive", "0 4 1 * *", suspend=True),
]


def kubectl(cluster: LocalCluster, *args: str, text: str | None = None) -> str:
    done = subprocess.run(
        [str(cluster.bin_dir / "kubectl"), f"--kubeconfig={cluster.kubeconfig}", *args],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise SystemExit(f"ui_screenshots: timed out waiting for {what}")


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("ui_screenshots: needs Debian's chromium (apt-get install chromium)")
    cluster = LocalCluster()
    cluster.up()
    kubectl(cluster, "apply", "--server-side", "--force-conflicts", "-f", "-", text=render_crd())
    kubectl(cluster, "wait", "--for=condition=Established", "crd/scheduledtasks.kron.dev")
    kubectl(
        cluster,
        "apply",
        "-f",
        "-",
        text=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n",
    )
    for name in [t["metadata"]["name"] for t in TASKS]:  # a fresh start for each picture
        kubectl(cluster, "delete", "stask", name, "-n", NAMESPACE, "--ignore-not-found")
    kubectl(cluster, "apply", "-f", "-", text=yaml.safe_dump_all(TASKS))

    logs = REPO / ".local-cluster" / "screenshots"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    operator = start(
        [sys.executable, "-m", "kron", "run", "--kubeconfig", str(cluster.kubeconfig)],
        {
            **env,
            "KRON_NAMESPACES": NAMESPACE,
            "KRON_LEASE_NAMESPACE": NAMESPACE,
            "KRON_METRICS_PORT": str(free_port()),
        },
        logs / "operator.log",
    )
    ui = start(
        [
            sys.executable,
            "-m",
            "kron",
            "ui",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "-n",
            NAMESPACE,
        ],
        env,
        logs / "ui.log",
    )
    try:
        url = wait_for(
            lambda: re.search(r"serving (http://\S+)", (logs / "ui.log").read_text()),
            30,
            "kron ui",
        ).group(1)
        base = url.split("/?")[0]
        print(f"ui_screenshots: letting the operator fire for {RUN_FOR_SECONDS}s...", flush=True)
        time.sleep(RUN_FOR_SECONDS)
        now = time.time()
        change = zone_changes("America/New_York", int(now), int(now) + 400 * 86_400)[0]
        day = dt.datetime.fromtimestamp(change.instant, ZoneInfo("America/New_York")).date()
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=FLAGS)
            shots = [
                ("ui-tasks.png", f"/ns/{NAMESPACE}", 1280, False),
                ("ui-task.png", f"/ns/{NAMESPACE}/tasks/search-reindex?days=4", 1280, True),
                (
                    "ui-dst.png",
                    f"/ns/{NAMESPACE}/tasks/nightly-report?from={day - WEEK_BEFORE}&days=8",
                    1280,
                    False,
                ),
                ("ui-timeline.png", f"/ns/{NAMESPACE}/timeline", 1280, True),
                ("ui-confirm.png", f"/ns/{NAMESPACE}/tasks/cache-warm/run-now", 1280, False),
                ("ui-phone.png", f"/ns/{NAMESPACE}", 390, False),
            ]
            for name, path, width, full in shots:
                if name == "ui-timeline.png":
                    # Its every-20-seconds runs would bury the hourly herd on the chart.
                    patch = '{"spec":{"suspend":true}}'
                    kubectl(cluster, "patch", "stask", "search-reindex", "-n", NAMESPACE,
                            "--type=merge", "-p", patch)  # fmt: skip
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, device_scale_factor=1
                )
                page = context.new_page()
                page.goto(url)
                page.goto(base + path)
                if page.locator("#live-status").count():
                    page.wait_for_selector("#live-status[data-state=on]", timeout=20_000)
                if name == "ui-dst.png":
                    page.locator('[data-region="task-upcoming"]').screenshot(path=str(OUT / name))
                else:
                    page.screenshot(path=str(OUT / name), full_page=full)
                print(f"ui_screenshots: wrote {OUT / name}")
                context.close()
            browser.close()
    finally:
        stop(ui)
        stop(operator)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
