"""The `kron-shards` phase: one workload served by 1 replica, then by 4 shards.

The steady phase's tasks (BENCH_TASKS, one fire per BENCH_PERIOD minutes each) in
one namespace. First one kron serves them all; then four, started with
`--shard-index i --shard-count 4` as the chart's sharded install starts them. For
each layout a window measures every replica's CPU share and RSS, the fire lag of
the whole workload (the watcher), and `kron_runs_other_shard_total` (runs the API
server sent a replica that belong to another shard: 0 when the watch is split
server-side). What shards should divide is the per-replica cost: each replica
plans, fires and watches a quarter of the tasks and runs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from bench import workload
from bench.phases import TASKS_PATH, Bench, Sampler
from bench.procs import BenchError, Kron
from bench.stats import lag_report

log = logging.getLogger("bench")

LAYOUTS = (1, 4)
"""Replica counts measured, in order, on the same tasks."""


async def shards(bench: Bench) -> dict[str, Any]:
    c = bench.c
    label = "kron-shards"
    ns = bench.namespace(label)
    await bench.make_namespace(ns)
    slots: dict[str, workload.Slot] = {}
    bodies = []
    for i in range(c.tasks):
        name = f"d{i:05d}"
        slots[name] = workload.kron_slot(i, c.period_min)
        bodies.append(workload.task(name, ns, workload.kron_schedule(slots[name]), label, c.run))
    created_s = await bench.create_all(TASKS_PATH.format(ns=ns), bodies)
    log.info("%s: %d tasks created in %.1fs", label, len(bodies), created_s)
    results: dict[str, Any] = {"tasks": c.tasks, "create_s": round(created_s, 1)}
    try:
        for count in LAYOUTS:
            results[str(count)] = await layout(bench, ns, label, slots, count)
            log.info("%s with %d: %s", label, count, results[str(count)])
    finally:
        await bench.cleanup(ns, TASKS_PATH)
    one, many = results.get("1"), results.get(str(LAYOUTS[-1]))
    if one and many and one["cpu_share_per_replica"][0] > 0:
        results["per_replica_cpu_vs_one"] = round(
            many["cpu_share_mean"] / one["cpu_share_per_replica"][0], 3
        )
    return results


async def layout(
    bench: Bench, ns: str, label: str, slots: dict[str, workload.Slot], count: int
) -> dict[str, Any]:
    """`count` replicas on the tasks: a window of their CPU, RSS and the fire lag."""
    c = bench.c
    replicas = [
        bench.start_kron(
            ns,
            f"{label}-{count}-{index}",
            ("--shard-index", str(index), "--shard-count", str(count)) if count > 1 else (),
        )
        for index in range(count)
    ]
    try:
        for replica in replicas:
            await asyncio.to_thread(replica.wait_ready)
        for replica in replicas:
            await bench.settle(replica)
        samplers = [Sampler(r.pid) for r in replicas]
        t0 = math.ceil(time.time() + 10)
        t1 = t0 + c.window_s
        await sleep_until(bench, t0, replicas)
        starts = [s.read() for s in samplers]
        while time.time() < t1:
            await sleep_until(bench, min(t1, time.time() + 2.0), replicas)
            for sampler in samplers:
                sampler.read()
        ends = [s.read() for s in samplers]
        expected = {(name, t) for name, slot in slots.items() for t in slot.ticks(t0, t1)}
        try:
            await bench.until(
                lambda: lag_report(bench.rows(label), expected).fired == len(expected),
                c.grace_s + 15,
                f"every tick of the {count}-replica window",
            )
        except BenchError as err:
            log.warning("%s: %s (counted as missed)", label, err)
        report = lag_report(bench.rows(label), expected)
        shares = [
            round((e.cpu_s - s.cpu_s) / max(e.at - s.at, 1e-3), 3)
            for s, e in zip(starts, ends, strict=True)
        ]
        return {
            "replicas": count,
            "fires_per_s": round(len(expected) / c.window_s, 1),
            **report.summary(),
            "cpu_share_per_replica": shares,
            "cpu_share_mean": round(sum(shares) / len(shares), 3),
            "cpu_share_sum": round(sum(shares), 3),
            "rss_mb_per_replica": [round(e.rss_mb, 1) for e in ends],
            "runs_other_shard": sum(r.metric("kron_runs_other_shard_total") for r in replicas),
        }
    finally:
        for replica in replicas:
            replica.stop()


async def sleep_until(bench: Bench, instant: float, replicas: list[Kron]) -> None:
    for replica in replicas:
        replica.check_alive()
    await bench.sleep_until(instant, None)
