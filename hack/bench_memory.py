"""Benchmark of what kron holds per task and per run, object by object (tracemalloc).

The scale profile measures the operator's RSS at 10,000 and 100,000 tasks; this says
what that memory is. It feeds a real Engine (no cluster: observing and planning
never call the API server) the scale profile's task mix and measures, per object:

- kron's index entry of a task as it arrives by watch (no status yet);
- what planning it adds (its compiled timeline, the status kron intends, its timer);
- the index entry of a task as a restarted replica lists it, with the status kron wrote;
- kopf's per-object memory of a watched task (`ResourceMemory`, kept until deletion);
- kron's record of one run (a Job as the API server returns it).

    make bench-memory           # or: .venv/bin/python hack/bench_memory.py [--tasks N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import sys
import tracemalloc
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "operator"), str(ROOT / "hack")]

import kopf  # noqa: E402
from kopf._core.reactor.inventory import ResourceMemories  # noqa: E402

from bench import scale, workload  # noqa: E402
from bench_core import update_page  # noqa: E402
from kron.api import RunKind, Trigger  # noqa: E402
from kron.engine import Engine  # noqa: E402
from kron.k8s.api import KubeApi  # noqa: E402
from kron.k8s.runs import build_run  # noqa: E402
from kron.metrics import Metrics  # noqa: E402
from kron.planner import CreateRun  # noqa: E402
from kron.planner.timeutil import rfc3339  # noqa: E402
from kron.schedule import run_name  # noqa: E402
from kron.schedule import timeline as timeline_module  # noqa: E402
from kron.settings import Settings  # noqa: E402

NOW = 1_767_268_800.0  # 2026-01-01T12:00:00Z: a few per-second and per-minute tasks are due
PAGE_START, PAGE_END = "<!-- bench-memory:start -->", "<!-- bench-memory:end -->"


class NoApi:
    """Observing and planning queue work for the pool; they never call the API."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine called the API ({name})")


def new_engine() -> Engine:
    engine = Engine(
        cast(KubeApi, NoApi()),
        Metrics(),
        Settings(leader_election=False, metrics_port=0),
        clock=lambda: NOW,
    )
    engine.lead()
    return engine


def task_bodies(count: int) -> list[dict[str, Any]]:
    bodies = []
    for i, task in enumerate(scale.plan_tasks("mem", 0, count)):
        body = workload.task(task.name, task.namespace, scale.schedule(task), "kron-scale")
        body["metadata"].update(
            uid=f"{i:08x}-0000-4000-8000-{i:012x}",
            generation=1,
            resourceVersion=str(1000 + i),
            creationTimestamp="2026-01-01T00:00:00Z",
        )
        bodies.append(body)
    return bodies


def job_body(engine: Engine, uid: str) -> dict[str, Any]:
    entry = engine.tasks[uid]
    spec = entry.spec
    assert spec is not None
    nominal = int(NOW) - 3600
    create = CreateRun(run_name(entry.ref.name, nominal), nominal, 0, Trigger.SCHEDULE, nominal)
    obj = build_run(entry.ref, spec, create)
    meta = obj["metadata"]
    meta.update(uid=f"run-{uid}", resourceVersion="5", creationTimestamp=rfc3339(nominal))
    obj["status"] = {"succeeded": 0, "conditions": [{"type": "Complete", "status": "True"}]}
    return obj


def traced() -> int:
    gc.collect()
    return int(tracemalloc.get_traced_memory()[0])


def per_object(label: str, since: int, count: int) -> int:
    """Bytes per object allocated since `since` and still held."""
    value = round((traced() - since) / count)
    print(f"{label:<52} {value:8,} B")
    return value


def plan_all(engine: Engine) -> None:
    while engine.turn(NOW):
        pass


def written(engine: Engine, bodies: list[dict[str, Any]]) -> None:
    """What the API server does for the queued status writes: each task comes back
    with the status kron intended (kron then drops its own copy)."""
    for body in bodies:
        entry = engine.tasks[body["metadata"]["uid"]]
        echoed = {**body, "status": entry.intended_api()}
        echoed["metadata"] = {**body["metadata"], "resourceVersion": str(entry.rv + 1)}
        engine.observe_task("MODIFIED", echoed, known_only=True)
    engine.pool.clear()


def measure(count: int) -> dict[str, int]:
    bodies = task_bodies(count)
    tracemalloc.start()
    base = traced()
    engine = new_engine()
    for body in bodies:
        engine.observe_task("ADDED", body)
    arrived = per_object("a task in kron's index, as it arrives", base, count)
    plan_all(engine)
    queued = per_object("planned, its first status write queued", base, count)
    written(engine, bodies)
    steady = per_object("planned, status written (steady)", base, count)
    statuses = {uid: entry.intended_api() for uid, entry in engine.tasks.items()}
    del engine
    timeline_module._compile.cache_clear()

    base = traced()
    restarted = new_engine()
    for body in bodies:
        restarted.observe_task(None, {**body, "status": statuses[body["metadata"]["uid"]]})
    listed = per_object("listed after a restart, not yet planned", base, count)
    status_json = sum(len(json.dumps(s, separators=(",", ":"))) for s in statuses.values())

    memories = ResourceMemories()
    memobase = kopf.Memo()

    async def recall_all() -> None:
        for body in bodies:
            await memories.recall(body, noticed_by_listing=True, memobase=memobase)

    base = traced()
    asyncio.run(recall_all())
    kopf_memory = per_object("kopf's memory of a watched task", base, count)

    jobs = [job_body(restarted, body["metadata"]["uid"]) for body in bodies]
    base = traced()
    for job in jobs:
        restarted.observe_run(RunKind.JOB, "ADDED", job)
    per_run = per_object("a run (Job) in kron's index", base, count)
    tracemalloc.stop()
    return {
        "task_arrived_bytes": arrived,
        "task_queued_bytes": queued,
        "task_steady_bytes": steady,
        "task_listed_bytes": listed,
        "status_json_bytes": round(status_json / count),
        "kopf_memory_bytes": kopf_memory,
        "run_bytes": per_run,
    }


def results_line(result: dict[str, Any]) -> str:
    return (
        f"Measured {str(result['date'])[:10]} with `make bench-memory` (Python"
        f" {result['python']}, {result['tasks']:,} tasks of the scale profile's mix,"
        f" tracemalloc): a task in kron's index takes {result['task_arrived_bytes']:,} bytes"
        f" as it arrives, {result['task_queued_bytes']:,} once planned with its first status"
        f" write queued, and **{result['task_steady_bytes']:,} bytes** once that is written"
        f" (its spec and status as compact JSON, its compiled timeline, its timer); listed"
        f" after a restart with its status ({result['status_json_bytes']:,} bytes of JSON)"
        f" {result['task_listed_bytes']:,} bytes until it is planned. kopf keeps"
        f" **{result['kopf_memory_bytes']:,} bytes** per watched task (`ResourceMemory`,"
        f" until the task is deleted), and kron **{result['run_bytes']:,} bytes** per run."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=ROOT / ".bench" / "memory.json")
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs/performance.md")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "tasks": args.tasks,
        **measure(args.tasks),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    line = results_line(result)
    print(line)
    if args.update_docs:
        update_page(ROOT / "docs" / "performance.md", line, PAGE_START, PAGE_END)


if __name__ == "__main__":
    main()
