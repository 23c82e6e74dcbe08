"""`make fuzz`: hostile tasks and runs through the engine, judged by the real API server.

    FUZZ_EXAMPLES   cases to generate (default 10000)
    FUZZ_ADMISSION  cases sent to the API server as server-side dry-run creates
                    (default 500, spread over the run; 0: none)
    FUZZ_OUT        where the totals go (default .bench/fuzz.json)
    KRON_TEST_KUBECONFIG  the cluster for the admission sample (default: the local
                    control plane, started if it is not running)

Every case goes through `hostile.harness.run_case` (a real Engine: index, planner,
executor). The totals (tried, refused at admission in the sample, reported on the
task, planned, internal errors, crashes, the slowest plan, the largest status) are
written to FUZZ_OUT and to docs/tenancy/security.md between the fuzz markers. Exits 1 if any case
crashed, hit an internal error, exceeded the status bound or made the neighbouring
task miss a tick.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from hostile.harness import NAMESPACE, Case, Totals, cases, run_case
from kron.api.constants import MAX_STATUS_BYTES
from kron.api.crd import render_operator_crds
from kron.app import allow_deep_objects
from kron.k8s.api import ApiError, KubeApi, calendar_path, task_path
from localcluster import LocalCluster

PAGE = Path("docs/tenancy/security.md")
START, END = "<!-- fuzz:start -->", "<!-- fuzz:end -->"


def main() -> int:
    allow_deep_objects()
    examples = int(os.environ.get("FUZZ_EXAMPLES", "10000"))
    sample = int(os.environ.get("FUZZ_ADMISSION", "500"))
    out = Path(os.environ.get("FUZZ_OUT", ".bench/fuzz.json"))
    every = max(1, examples // sample) if sample else 0
    totals = Totals()
    oversized = 0
    sampled: list[Case] = []
    loop = asyncio.new_event_loop()
    started = time.monotonic()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases())
    def one(case: Case) -> None:
        nonlocal oversized
        outcome = run_case(case, loop)
        totals.add(case, outcome)
        if outcome.status_bytes > MAX_STATUS_BYTES:
            oversized += 1
        if every and totals.tried % every == 0 and len(sampled) < sample:
            sampled.append(case)
        if totals.tried % 1000 == 0:
            print(f"fuzz: {totals.tried} cases, {dict(totals.verdicts)}", flush=True)

    one()
    engine_seconds = time.monotonic() - started
    admission = loop.run_until_complete(_admission(sampled)) if sampled else {}
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        "command": "make fuzz" + (f" FUZZ_EXAMPLES={examples}" if examples != 10000 else ""),
        "tried": totals.tried,
        "planned": totals.verdicts.get("planned", 0),
        "reported_on_task": totals.verdicts.get("reported", 0),
        "internal_errors": totals.verdicts.get("internal", 0),
        "crashes": totals.verdicts.get("crash", 0),
        "neighbour_missed": totals.verdicts.get("neighbour-missed", 0),
        "reasons": dict(sorted(totals.reasons.items(), key=lambda kv: -kv[1])),
        "slowest_plan_ms": round(totals.slowest_plan * 1000, 1),
        "slowest_case": totals.slowest_case,
        "largest_status_bytes": totals.largest_status,
        "status_bound_bytes": MAX_STATUS_BYTES,
        "oversized_statuses": oversized,
        "engine_seconds": round(engine_seconds, 1),
        "admission": admission,
        "findings": totals.findings,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    _write_page(report)
    print(json.dumps({k: v for k, v in report.items() if k != "findings"}, indent=2))
    failed = report["crashes"] or report["internal_errors"] or oversized
    failed = failed or report["neighbour_missed"]
    for finding in totals.findings:
        print("finding:", finding, file=sys.stderr)
    return 1 if failed else 0


async def _admission(sampled: list[Case]) -> dict[str, Any]:
    """Server-side dry-run creates of the sampled tasks: which the API server admits."""
    kubeconfig = os.environ.get("KRON_TEST_KUBECONFIG") or _local_cluster()
    api = await KubeApi.connect(kubeconfig)
    try:
        await _ensure_namespace(api)
        tasks: Counter[str] = Counter()
        calendars: Counter[str] = Counter()
        for case in sampled:
            body = json.loads(json.dumps(case.task))
            body["metadata"] = {
                "name": body["metadata"]["name"],
                "namespace": NAMESPACE,
                "annotations": body["metadata"].get("annotations") or {},
            }
            body.pop("status", None)
            tasks[await _dry_run_create(api, task_path(NAMESPACE), body)] += 1
            for calendar in case.calendars:
                body = json.loads(json.dumps(calendar))
                name = body["metadata"]["name"]
                body["metadata"] = {
                    "name": name if isinstance(name, str) else "x",
                    "namespace": NAMESPACE,
                }
                calendars[await _dry_run_create(api, calendar_path(NAMESPACE), body)] += 1
    finally:
        await api.close()
    return {
        "sampled": len(sampled),
        **{verdict: tasks[verdict] for verdict in VERDICTS},
        "calendars": {"sampled": calendars.total(), **{v: calendars[v] for v in VERDICTS}},
    }


VERDICTS = ("admitted", "refused", "unanswered")


async def _dry_run_create(api: KubeApi, path: str, body: dict[str, Any]) -> str:
    """One of VERDICTS for a server-side dry-run create of `body` at `path`."""
    try:
        await api.request("POST", path, body=body, query=[("dryRun", "All")])
    except ApiError as err:
        # 4xx: refused (413: larger than the API server takes); else: not answered.
        return "refused" if 400 <= err.status < 500 else "unanswered"
    return "admitted"


async def _ensure_namespace(api: KubeApi) -> None:
    try:
        await api.request(
            "POST",
            "/api/v1/namespaces",
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        )
    except ApiError as err:
        if not err.already_exists:
            raise


def _local_cluster() -> str:
    cluster = LocalCluster()
    cluster.up()
    kubectl = cluster.bin_dir / "kubectl"
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    subprocess.run(
        [str(kubectl), "apply", "--server-side", "--force-conflicts", "-f", "-"],
        input=render_operator_crds(),
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )
    subprocess.run(
        [
            str(kubectl),
            "wait",
            "--for=condition=Established",
            "crd/scheduledtasks.kron.dev",
            "crd/calendars.kron.dev",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return str(cluster.kubeconfig)


def _write_page(report: dict[str, Any]) -> None:
    if not PAGE.exists():
        return
    text = PAGE.read_text()
    if START not in text or END not in text:
        return
    adm = report["admission"]
    admission = (
        f"Of {adm['sampled']} of them sent to the API server as server-side dry-run creates, "
        f"{adm['refused']} were refused at admission and {adm['admitted']} admitted. "
        if adm
        else ""
    )
    body = (
        f"Measured {report['date']} on {report['machine']} (`{report['command']}`): "
        f"**{report['tried']:,}** hostile cases through the engine; "
        f"{report['planned']:,} planned, {report['reported_on_task']:,} reported on their "
        f"task (Ready=False), **{report['crashes']} crashes**, "
        f"**{report['internal_errors']} internal errors**, "
        f"{report['neighbour_missed']} ticks missed by the other namespace's task. "
        f"{admission}"
        f"Slowest plan: {report['slowest_plan_ms']} ms; largest status: "
        f"{report['largest_status_bytes']:,} bytes (bound {report['status_bound_bytes']:,})."
    )
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    indent = head[head.rfind("\n") + 1 :]  # the markers sit inside a list item
    PAGE.write_text(f"{head}{START}\n{indent}{body}\n{indent}{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
