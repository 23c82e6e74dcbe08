"""The `scale` profile: kron with 10,000 and then 100,000 tasks in many namespaces.

A realistic mix, spread over the day: most tasks daily or hourly, some every minute,
a few every second (`MIX`), in NAMESPACES namespaces, served by one cluster-wide
kron. At each size it measures, with tasks arriving by watch: kron's RSS and CPU in
a steady window, fire lag p50/p99 (the independent watcher), API requests per fire
by verb (kron's own counters over the window, divided by the fires in it), and the
API server's and etcd's CPU and memory beside it; then it restarts kron with every
task present and measures start to index loaded (/readyz), start to first fire, and
RSS once the restarted replica has settled.

    BENCH_PROFILE=scale make bench     (about 50 minutes on 2 cores)
    BENCH_SCALE_SIZES=10000,100000     the sizes, in order (each adds tasks)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from bench import workload
from bench.phases import TASKS_PATH, Bench, Sampler
from bench.procs import Kron, peak_rss_mb, usage
from bench.stats import lag_report, percentile

log = logging.getLogger("bench")

NAMESPACES = 50
MIX = (
    ("daily", 86_400, 0.7059),
    ("hourly", 3_600, 0.29),
    ("minutely", 60, 0.004),
    ("secondly", 1, 0.0001),
)
"""(kind, period in seconds, share of the tasks). At 100,000 tasks: about 70,600
daily, 29,000 hourly, 400 every minute, 10 every second: about 25 fires a second,
what this 2-core machine's API server sustains beside everything else (it
saturates near 50)."""
FIRE_PATH = ("POST jobs", "PATCH scheduledtasks/status")
"""What `requests_per_fire` counts: the run's create and the status that records it.
History cleanup (one delete per run beyond the limits, as CronJob's) and Events are
in `requests_per_fire_by_verb` beside it."""
WINDOW_S = 120.0
RESTART_SETTLE_S = 60.0
SETTLE_LIMIT_S = 1200.0


@dataclass(frozen=True)
class ScaleTask:
    name: str
    namespace: str
    kind: str
    slot: workload.Slot


def plan_tasks(run_id: str, start: int, stop: int) -> list[ScaleTask]:
    """Tasks number `start` up to `stop`, with kinds in MIX's shares and their fire
    seconds spread evenly over each period (a deterministic stride)."""
    tasks = []
    for i in range(start, stop):
        kind, period = kind_of((i * 0.6180339887) % 1.0)
        offset = (i * 7919) % period
        namespace = f"bench-{run_id}-scale-{i % NAMESPACES}"
        tasks.append(ScaleTask(f"x{i:06d}", namespace, kind, workload.Slot(offset, period)))
    return tasks


def kind_of(share: float) -> tuple[str, int]:
    """The MIX entry a number in [0, 1) falls in."""
    cumulative = 0.0
    for kind, period, weight in MIX:
        cumulative += weight
        if share < cumulative:
            return kind, period
    return MIX[-1][0], MIX[-1][1]


def schedule(task: ScaleTask) -> str:
    second = task.slot.offset % 60
    minute = task.slot.offset // 60 % 60
    hour = task.slot.offset // 3600
    return {
        "daily": f"{second} {minute} {hour} * * *",
        "hourly": f"{second} {minute} * * * *",
        "minutely": f"{second} * * * * *",
        "secondly": "* * * * * *",
    }[task.kind]


async def scale(bench: Bench, sizes: list[int], control_plane: dict[str, int]) -> dict[str, Any]:
    """`control_plane`: the pids of kube-apiserver and etcd, measured beside kron."""
    c = bench.c
    label = "kron-scale"
    namespaces = sorted({f"bench-{c.run_id}-scale-{i}" for i in range(NAMESPACES)})
    for ns in namespaces:
        await bench.make_namespace(ns)
    kron = cluster_wide_kron(bench, label)
    kron.wait_ready()
    tasks: list[ScaleTask] = []
    results: dict[str, Any] = {}
    try:
        for size in sizes:
            added = plan_tasks(c.run_id, len(tasks), size)
            tasks += added
            created_s = await create(bench, added, label)
            settle_s = await bench.settle(kron, SETTLE_LIMIT_S)
            log.info(
                "%s: %d tasks (+%d in %.0fs), settled %.0fs",
                label,
                size,
                len(added),
                created_s,
                settle_s,
            )
            steady = await window(bench, kron, tasks, label, control_plane)
            kron, restarted = await restart(bench, kron, tasks, label)
            results[str(size)] = {
                "tasks": size,
                "create_s": round(created_s, 1),
                "settle_s": round(settle_s, 1),
                **steady,
                **restarted,
            }
            log.info("%s at %d: %s", label, size, results[str(size)])
    finally:
        kron.stop()
    sizes_done = sorted(int(k) for k in results)
    if len(sizes_done) >= 2:
        small, large = results[str(sizes_done[0])], results[str(sizes_done[-1])]
        per_task = (large["restart_rss_mb"] - small["restart_rss_mb"]) * 1024 * 1024
        results["bytes_per_task"] = round(per_task / (large["tasks"] - small["tasks"]))
    return results


def cluster_wide_kron(bench: Bench, label: str) -> Kron:
    kron = Kron(
        bench.c.kubeconfig,
        [],
        bench.c.out_dir / "logs" / f"kron-{label}.log",
        flags=["--workers", str(bench.c.workers), *bench.c.kron_flags],
    )
    bench.krons.append(kron)
    return kron.start()


async def create(bench: Bench, tasks: list[ScaleTask], label: str) -> float:
    started = time.time()
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        body = workload.task(task.name, task.namespace, schedule(task), label, bench.c.run)
        by_namespace.setdefault(task.namespace, []).append(body)
    for ns, bodies in by_namespace.items():
        await bench.create_all(TASKS_PATH.format(ns=ns), bodies)
    return time.time() - started


async def window(
    bench: Bench, kron: Kron, tasks: list[ScaleTask], label: str, control_plane: dict[str, int]
) -> dict[str, Any]:
    """A steady window: lag, RSS, CPU, requests per fire, the control plane beside."""
    sampler = Sampler(kron.pid)
    others = {name: Sampler(pid) for name, pid in control_plane.items()}
    before = requests_of(kron)
    t0 = time.time() + 5
    t1 = t0 + WINDOW_S
    await bench.sleep_until(t0, kron)
    start = sampler.read()
    starts = {name: s.read() for name, s in others.items()}
    while time.time() < t1:
        await bench.sleep_until(min(t1, time.time() + 2.0), kron)
        sampler.read()
    end = sampler.read()
    ends = {name: s.read() for name, s in others.items()}
    after = requests_of(kron)
    expected = {(t.name, n) for t in tasks for n in t.slot.ticks(t0, t1)}
    await bench.sleep_until(t1 + 30, kron)
    report = lag_report(bench.rows(label), expected)
    fires = max(1.0, after.get("fires", 0.0) - before.get("fires", 0.0))
    verbs = {
        key: round((after.get(key, 0.0) - before.get(key, 0.0)) / fires, 3)
        for key in sorted(set(after) | set(before))
        if key != "fires" and after.get(key, 0.0) > before.get(key, 0.0)
    }
    fire_path = sum(v for k, v in verbs.items() if k in FIRE_PATH)
    return {
        "fires_per_s": round(len(expected) / WINDOW_S, 1),
        "lag_p50_s": round(percentile(report.lags, 50), 3),
        "lag_p99_s": round(percentile(report.lags, 99), 3),
        "missed": report.missed,
        "duplicates": report.duplicates,
        "rss_mb": round(end.rss_mb, 1),
        "cpu_share": round((end.cpu_s - start.cpu_s) / max(end.at - start.at, 1e-3), 3),
        "requests_per_fire": round(fire_path, 3),
        "requests_per_fire_by_verb": verbs,
        "control_plane": {
            name: {
                "cpu_share": round(
                    (ends[name].cpu_s - starts[name].cpu_s)
                    / max(ends[name].at - starts[name].at, 1e-3),
                    3,
                ),
                "rss_mb": round(ends[name].rss_mb, 1),
            }
            for name in others
        },
    }


async def restart(
    bench: Bench, kron: Kron, tasks: list[ScaleTask], label: str
) -> tuple[Kron, dict[str, Any]]:
    """Stop kron, start it with every task present: ready, first fire, settled RSS."""
    kron.stop()
    fresh = cluster_wide_kron(bench, f"{label}-{len(tasks)}")
    spawned = fresh.started_at
    ready_s = await asyncio.to_thread(fresh.wait_ready, 1800)
    await bench.until(
        lambda: any(r.seen > spawned for r in bench.rows(label)), 300, "a fire after restart"
    )
    first = min(r.seen for r in bench.rows(label) if r.seen > spawned)
    await bench.sleep_until(time.time() + RESTART_SETTLE_S, fresh)
    return fresh, {
        "start_ready_s": round(ready_s, 2),
        "start_to_first_fire_s": round(first - spawned, 2),
        "restart_rss_mb": round(usage(fresh.pid).rss_mb, 1),
        "restart_peak_rss_mb": round(peak_rss_mb(fresh.pid), 1),
    }


def requests_of(kron: Kron) -> dict[str, float]:
    """kron's requests by `verb resource` (the Lease's left out) and its fires."""
    _, text = kron.get("/metrics")
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("kron_api_requests_total{"):
            labels = dict(
                part.split("=", 1)
                for part in line[line.index("{") + 1 : line.index("}")].split(",")
            )
            verb, resource = (labels.get(k, "").strip('"') for k in ("verb", "resource"))
            if resource != "leases":
                key = f"{verb} {resource}"
                totals[key] = totals.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith("kron_fires_total{"):
            totals["fires"] = totals.get("fires", 0.0) + float(line.rsplit(" ", 1)[1])
    return totals
