"""API requests per fire, counted by the API server itself.

kron counts its own requests (`kron_api_requests_total`), but the CronJob controller
does not expose its own: so both systems are measured the same way, from the API
server's `apiserver_request_total` read before and after a steady window. Only one
phase runs at a time, and in its window only the system under test creates Jobs and
writes its owners' status; what the Job controller and kwok write (Job status,
Pods) is the same for both and shown apart.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE", "APPLY"})
READS = frozenset({"GET", "LIST"})
RUN_RESOURCES = frozenset({"jobs", "pods"})


def parse(text: str) -> Counter[str]:
    """`apiserver_request_total` summed by "VERB resource[/subresource]"."""
    totals: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        head, _, value = line.rpartition(" ")
        labels: dict[str, str] = {}
        for part in head[head.index("{") + 1 : head.rindex("}")].split(","):
            key, _, raw = part.partition("=")
            labels[key] = raw.strip('"')
        if labels.get("dry_run"):
            continue
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        totals[f"{labels.get('verb', '')} {resource}"] += int(float(value))
    return totals


async def read(kubectl: Path, kubeconfig: Path) -> Counter[str]:
    """The API server's request counters now (kubectl get --raw /metrics)."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(kubectl), "--kubeconfig", str(kubeconfig), "get", "--raw", "/metrics"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return parse(done.stdout)


def per_fire(before: Counter[str], after: Counter[str], owner: str) -> dict[str, Any]:
    """Requests per Job created between two readings. `owner`: the resource whose
    objects own the runs (scheduledtasks, cronjobs). The fire path is the create
    plus the owner's writes (its status, as both systems record runs there); the
    owner's reads and every write besides are listed by verb."""
    delta = after - before
    creates = delta.get("POST jobs", 0)
    if creates == 0:
        return {"runs_created": 0}
    owner_writes = {
        key: n for key, n in delta.items() if key.split(" ")[0] in WRITES and _of(key, owner)
    }
    fire_path = creates + sum(owner_writes.values())
    by_verb = {
        key: round(n / creates, 3)
        for key, n in sorted(delta.items())
        if key.split(" ")[0] in WRITES or (key.split(" ")[0] in READS and _of(key, owner))
    }
    run_side = sum(
        n
        for key, n in delta.items()
        if key.split(" ")[0] in WRITES
        and key != "POST jobs"
        and key.split(" ")[1].split("/")[0] in RUN_RESOURCES
    )
    return {
        "runs_created": creates,
        "requests_per_fire": round(fire_path / creates, 3),
        "requests_per_fire_by_verb": by_verb,
        "run_writes_per_fire": round(run_side / creates, 3),
        "run_writes_note": "Job status and Pods written by the Job controller, kwok and "
        "history cleanup: the same for both systems",
    }


def _of(key: str, owner: str) -> bool:
    return key.split(" ", 1)[1].split("/", maxsplit=1)[0] == owner
