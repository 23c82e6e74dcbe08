"""Micro-benchmark of the work pool alone: what queueing costs per API job.

Not a test: it prints (and with --out writes) timings so a change to the pool's
scheduling shows its cost in review. No API server: every job is an empty
coroutine, the token bucket is set far above what the loop can reach, so what is
measured is the pool's own bookkeeping (submit, pick, run, account) per job.

Scenarios, each repeated (after a full garbage collection) and reported as the best
of the repeats, as timeit does: on a shared machine the others only add noise.

    herd     N creates in one namespace (a herd: the fire path's worst case)
    spread   N creates over 1,000 namespaces
    noisy    N creates in namespace A, then 20 in B: where B's last one ran
    status   N status writes over N/4 tasks (keyed: coalesced while queued)
    metered  the herd with the pool's metrics on, as the operator runs it (fair pool only)
    timers   N tasks in A and 20 in B due on one instant, popped in dispatcher batches

    .venv/bin/python hack/bench_pool.py [--jobs N] [--repeat R] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))

from kron.engine.pool import Lane, WorkPool  # noqa: E402
from kron.engine.timers import Timers  # noqa: E402
from kron.metrics import Metrics  # noqa: E402

WORKERS = 32
FAIR = "namespace" in inspect.signature(WorkPool.submit).parameters
"""Whether this pool takes a namespace (so the script also runs against older pools)."""


def submit(pool: WorkPool, lane: Lane, job: Any, key: str | None, ns: str, order: float) -> None:
    if FAIR:
        pool.submit(lane, job, key, namespace=ns, order=order)  # type: ignore[call-arg]
    else:
        pool.submit(lane, job, key)


async def scenario(
    jobs: list[tuple[Lane, str | None, str, float]], metered: bool = False
) -> dict[str, float]:
    if metered:
        pool = WorkPool(workers=WORKERS, qps=1e9, burst=10**9, metrics=Metrics())  # type: ignore[call-arg]
    else:
        pool = WorkPool(workers=WORKERS, qps=1e9, burst=10**9)
    ran: list[str] = []
    done = asyncio.Event()
    keys = {(lane, key) for lane, key, _, _ in jobs if key is not None}
    expected = len(keys) + sum(1 for _, key, _, _ in jobs if key is None)

    def make(ns: str) -> Any:
        async def job() -> None:
            ran.append(ns)
            if len(ran) == expected:
                done.set()

        return job

    bodies = [make(ns) for _, _, ns, _ in jobs]
    started = time.perf_counter()
    for (lane, key, ns, order), body in zip(jobs, bodies, strict=True):
        submit(pool, lane, body, key, ns, order)
    submitted = time.perf_counter()
    runner = asyncio.create_task(pool.run())
    await asyncio.wait_for(done.wait(), timeout=300)
    drained = time.perf_counter()
    runner.cancel()
    b_last = max((i for i, ns in enumerate(ran) if ns == "b"), default=-1)
    return {
        "submit_us": (submitted - started) / len(jobs) * 1e6,
        "drain_us": (drained - submitted) / expected * 1e6,
        "total_us": (drained - started) / expected * 1e6,
        "b_last_position": b_last,
        "ran": len(ran),
    }


def timers(n: int) -> dict[str, float]:
    """Set N+20 wake times on one instant, pop them 16 at a time (as the dispatcher does)."""
    keys = [f"a-{i}" for i in range(n)] + [f"b-{i}" for i in range(20)]
    group = {k: k.split("-", 1)[0] for k in keys}
    fair = "group" in inspect.signature(Timers).parameters
    t = Timers(group=group.__getitem__) if fair else Timers()  # type: ignore[call-arg]
    started = time.perf_counter()
    for key in keys:
        t.set(key, 1000.0)
    set_done = time.perf_counter()
    order: list[str] = []
    while batch := t.pop_due(1000.0, 16):
        order.extend(batch)
    popped = time.perf_counter()
    b_last = max(i for i, key in enumerate(order) if key.startswith("b-"))
    return {
        "set_us": (set_done - started) / len(keys) * 1e6,
        "pop_us": (popped - set_done) / len(keys) * 1e6,
        "b_last_position": b_last,
        "ran": len(order),
    }


def workloads(n: int) -> dict[str, list[tuple[Lane, str | None, str, float]]]:
    return {
        "herd": [(Lane.CREATE, None, "a", 1000.0) for _ in range(n)],
        "spread": [(Lane.CREATE, None, f"ns-{i % 1000}", 1000.0) for i in range(n)],
        "noisy": [(Lane.CREATE, None, "a", 1000.0) for _ in range(n)]
        + [(Lane.CREATE, None, "b", 1000.0) for _ in range(20)],
        "status": [(Lane.STATUS, f"uid-{i % (n // 4)}", f"ns-{i % 7}", 0.0) for i in range(n)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"jobs": args.jobs, "workers": WORKERS, "fair_pool": FAIR}
    loads = workloads(args.jobs)
    if FAIR:
        loads["metered"] = loads["herd"]
    for name, jobs in loads.items():
        runs = []
        for _ in range(args.repeat):
            gc.collect()
            runs.append(asyncio.run(scenario(jobs, metered=name == "metered")))
        summary = {k: round(min(r[k] for r in runs), 3) for k in runs[0]}
        results[name] = summary
        print(
            f"{name:7s} submit {summary['submit_us']:6.2f} us/job  drain "
            f"{summary['drain_us']:6.2f} us/job  (B's last ran at {summary['b_last_position']:.0f}"
            f" of {summary['ran']:.0f})"
        )
    runs = []
    for _ in range(args.repeat):
        gc.collect()
        runs.append(timers(args.jobs))
    summary = {k: round(min(r[k] for r in runs), 3) for k in runs[0]}
    results["timers"] = summary
    print(
        f"timers  set {summary['set_us']:6.2f} us/task  pop {summary['pop_us']:6.2f} us/task  "
        f"(B's last popped at {summary['b_last_position']:.0f} of {summary['ran']:.0f})"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
