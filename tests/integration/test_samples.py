"""The examples in crds/samples/: each is admitted by the real API server as written, and
the ones that fire soon do fire under a real operator, as their comments say."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from support.cluster import ClusterHandle
from support.tasks import get_task, runs, status
from support.wait import wait_until

SAMPLES = Path(__file__).resolve().parents[2] / "crds" / "samples"
FIELD_MANAGER = "kron-samples-test"

# What issue 5 asks the samples to show, by file.
EXPECTED = {
    "heartbeat.yaml": "heartbeat",
    "nightly-report.yaml": "nightly-report",
    "probe.yaml": "probe",
    "queue.yaml": "index-rebuild",
    "retries.yaml": "partner-export",
    "pod-mode.yaml": "cache-warmer",
    "one-off.yaml": "maintenance-2030",
    "backfill.yaml": "daily-rollup",
    "holidays.yaml": "weekday-report",
}


def sample(name: str) -> dict[str, Any]:
    """The ScheduledTask of a sample file (a file may also hold the Calendar it uses)."""
    (doc,) = [
        d for d in yaml.safe_load_all((SAMPLES / name).read_text()) if d and d["kind"] != "Calendar"
    ]
    return dict(doc)


def apply_sample(cluster: ClusterHandle, namespace: str, name: str) -> None:
    cluster.kubectl(
        "apply", "--server-side", f"--field-manager={FIELD_MANAGER}",
        "-n", namespace, "-f", str(SAMPLES / name),
    )  # fmt: skip


def test_samples_are_the_documented_set_and_commented() -> None:
    assert {p.name for p in SAMPLES.glob("*.yaml")} == set(EXPECTED)
    for file, task in EXPECTED.items():
        text = (SAMPLES / file).read_text()
        assert text.startswith("#"), f"{file} does not open with a comment saying what it shows"
        assert sample(file)["metadata"]["name"] == task
        assert "namespace" not in sample(file)["metadata"], f"{file}: apply with -n instead"
        if "sim.kron.dev/" in text:
            assert "kwok" in text, f"{file}: say the sim.kron.dev annotations are for kwok"
    features = {file: sample(file)["spec"] for file in EXPECTED}
    assert features["nightly-report.yaml"]["timeZone"] not in ("UTC", "Etc/UTC")
    assert len(features["probe.yaml"]["schedule"].split()) == 6
    assert features["queue.yaml"]["concurrencyPolicy"] == "Queue"
    assert features["retries.yaml"]["retryPolicy"]["maxRetries"] > 0
    assert features["retries.yaml"]["suspendAfterFailures"] >= 1
    assert "podTemplate" in features["pod-mode.yaml"]
    assert features["one-off.yaml"]["schedule"].startswith("@at ")
    assert "kron.dev/backfill" in sample("backfill.yaml")["metadata"]["annotations"]
    assert features["holidays.yaml"]["excludeCalendars"] == ["holidays-de-by"]
    assert features["holidays.yaml"]["successDeadlineSeconds"] > 0


def test_every_sample_is_admitted_by_the_api_server(
    cluster: ClusterHandle, namespace: str, crd_installed: str
) -> None:
    for file in EXPECTED:
        apply_sample(cluster, namespace, file)
    listed = json.loads(cluster.kubectl("get", "stask", "-n", namespace, "-o", "json").stdout)
    assert sorted(o["metadata"]["name"] for o in listed["items"]) == sorted(EXPECTED.values())
    for item in listed["items"]:
        # Nothing the sample says was pruned or rewritten by the server (it only adds defaults).
        written = next(sample(f) for f, t in EXPECTED.items() if t == item["metadata"]["name"])
        for key, value in written["spec"].items():
            if key not in ("jobTemplate", "podTemplate"):
                assert item["spec"][key] == value, (item["metadata"]["name"], key)


def test_samples_fire_under_the_operator(
    cluster: ClusterHandle, namespace: str, operator: Any
) -> None:
    operator()
    for file in ("heartbeat.yaml", "probe.yaml", "pod-mode.yaml", "backfill.yaml", "one-off.yaml"):
        apply_sample(cluster, namespace, file)
    wait_until(lambda: runs(cluster, namespace, "heartbeat"), timeout=30, message="a heartbeat Job")
    wait_until(
        lambda: runs(cluster, namespace, "cache-warmer", kind="pods"),
        timeout=45,
        message="a cache-warmer Pod (Pod mode)",
    )
    probes = wait_until(
        lambda: runs(cluster, namespace, "probe"), timeout=60, message="a probe Job"
    )
    assert int(probes[0]["metadata"]["name"].rsplit("-", 1)[1]) % 30 == 0  # on :00 or :30

    def backfilled() -> list[str]:
        return [
            job["metadata"]["annotations"]["kron.dev/scheduled-time"]
            for job in runs(cluster, namespace, "daily-rollup")
            if job["metadata"]["annotations"].get("kron.dev/trigger") == "backfill"
        ]

    first = wait_until(backfilled, timeout=30, message="a backfilled daily-rollup Job")
    assert datetime.fromisoformat(first[0]).date().isoformat().startswith("2026-10-0")

    at = get_task(cluster, namespace, "maintenance-2030")["spec"]["schedule"].removeprefix("@at ")
    next_time = wait_until(
        lambda: status(cluster, namespace, "maintenance-2030").get("nextScheduleTime"),
        timeout=30,
        message="the one-off task's next schedule time",
    )
    assert datetime.fromisoformat(next_time) == datetime.fromisoformat(at)
