"""The noisy-neighbour phase: does one namespace's herd delay another namespace's fires?

Namespace A holds a herd (BENCH_HERD objects, 2,000 quick / 5,000 full) due on one
instant S1; namespace B holds 20 objects due on S1 too, and on an instant S0 before
it, when A fires nothing. B's fire lag at S0 is its lag alone, at S1 its lag with
A's herd, in the same run, against the same API server and the same process (one
kron serving both namespaces, or the cluster's CronJob controller). A's objects are
created before B's, so first come, first served would put B's S1 runs last.

kron: S0 and S1 are seconds, at least 20 s apart (B's tasks have `schedules: [S0,
S1]`); B's tasks are created once kron has written the first status of A's, so that
S0 measures B beside A's idle tasks, not beside that one-off backlog.
CronJob: whole minutes, S0 one minute before S1 (B's schedule lists both minutes).

Reported per system: B's p50 and p99 lag alone and with the herd (20 runs each: the
p99 is the slowest of the 20), their ratio (goal for kron: at most 2), where B's last
S1 run came in the creation order of all S1 runs (the watcher sees ADDED events in
the API server's order), and how long A's herd took to drain.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from bench import workload
from bench.phases import CRONJOBS_PATH, TASKS_PATH, Bench
from bench.procs import BenchError, Kron
from bench.stats import Seen, percentile

log = logging.getLogger("bench")

SMALL = 20
"""Objects in the quiet namespace B."""
KRON_GAP_S = 20
"""Seconds at least between B's lone instant S0 and the shared one S1 (kron)."""
SETUP_MARGIN_S = 30.0
"""Seconds of slack beyond the estimated setup before the instants."""
SLOW_CREATE_RATE = 40.0
"""Objects/s assumed at most when planning S0: the driver's own rate from earlier
phases, or this when lower (a loaded machine managed 28/s) or when no phase ran yet."""


def lags(rows: list[Seen], nominal: int) -> list[float]:
    return sorted(
        r.seen - nominal for r in rows if r.nominal is not None and round(r.nominal) == nominal
    )


def cron_at_both(s0: int, s1: int) -> str:
    """A 5-field schedule firing at the whole minutes s0 and s1 (UTC), and at most two
    other instants of the day, none between them."""
    m0, h0 = s0 // 60 % 60, s0 // 3600 % 24
    m1, h1 = s1 // 60 % 60, s1 // 3600 % 24
    minutes = f"{m0}" if m0 == m1 else f"{m0},{m1}"
    hours = f"{h0}" if h0 == h1 else f"{h0},{h1}"
    return f"{minutes} {hours} * * *"


async def noisy_neighbour(
    bench: Bench, system: str, label: str, subject_pid: int | None
) -> dict[str, Any]:
    """`system` kron or cronjob; `subject_pid` the kube-controller-manager's for cronjob."""
    c = bench.c
    herd_ns, small_ns = bench.namespace(f"{label}-a"), bench.namespace(f"{label}-b")
    herd_label, small_label = f"{label}-a", f"{label}-b"
    for ns in (herd_ns, small_ns):
        await bench.make_namespace(ns)
    kron: Kron | None = None
    if system == "kron":
        kron = Kron(
            c.kubeconfig,
            [herd_ns, small_ns],
            c.out_dir / "logs" / f"kron-{label}.log",
            flags=["--workers", str(c.workers), *c.kron_flags],
        )
        bench.krons.append(kron)
        kron.start().wait_ready()
    rate = min(bench.create_rate, SLOW_CREATE_RATE)
    create_est = c.herd / rate * 1.3
    if system == "kron":
        # S1 leaves time to create A's tasks and for kron to write their first status
        # (as slow as creating them); B's tasks come after that, so S0 measures B
        # alone, beside A's idle tasks, and not beside A's first status writes.
        s1 = math.ceil(time.time() + 2 * create_est + SETUP_MARGIN_S + KRON_GAP_S)
        herd_bodies = [
            workload.task(f"h{i:05d}", herd_ns, workload.at_instant_kron(s1), herd_label, c.run)
            for i in range(c.herd)
        ]
        owners = TASKS_PATH
    else:
        s1 = math.ceil((time.time() + create_est + SETUP_MARGIN_S + 60) / 60) * 60
        herd_bodies = [
            workload.cronjob(f"h{i:05d}", herd_ns, workload.at_instant_cron(s1), herd_label, c.run)
            for i in range(c.herd)
        ]
        owners = CRONJOBS_PATH
    created_s = await bench.create_all(owners.format(ns=herd_ns), herd_bodies)
    settled = True
    if kron is not None:
        settled = await drained(bench, kron, before=s1 - KRON_GAP_S - 10)
        s0 = math.ceil(time.time()) + 15
        if s0 > s1 - KRON_GAP_S:
            raise BenchError(f"{label}: A's {c.herd} tasks took too long to set up, past S0")
        small_bodies = []
        for i in range(SMALL):
            body = workload.task(f"q{i:02d}", small_ns, "", small_label, c.run)
            del body["spec"]["schedule"]
            body["spec"]["schedules"] = [workload.at_instant_kron(s0), workload.at_instant_kron(s1)]
            small_bodies.append(body)
    else:
        s0 = s1 - 60
        small_bodies = [
            workload.cronjob(f"q{i:02d}", small_ns, cron_at_both(s0, s1), small_label, c.run)
            for i in range(SMALL)
        ]
    created_s += await bench.create_all(owners.format(ns=small_ns), small_bodies)
    if kron is not None:
        # kron's gauges refresh every few seconds: "empty" is read a little late.
        settled = await drained(bench, kron, before=s0 - 2) and settled
    log.info(
        "%s: %d + %d objects created in %.1fs; S0 %s, S1 %s; kron's queues empty before: %s",
        label,
        c.herd,
        SMALL,
        created_s,
        s0,
        s1,
        settled,
    )
    if time.time() > s0 - 1:
        raise BenchError(
            f"{label}: creating {c.herd + SMALL} objects took {created_s:.0f}s, past S0"
        )

    def b_rows() -> list[Seen]:
        return bench.rows(small_label)

    await bench.until(
        lambda: len(lags(b_rows(), s0)) >= SMALL, s0 - time.time() + 90, f"{label}: B's runs at S0"
    )
    await bench.sleep_until(s1, kron)
    deadline = s1 + max(300.0, c.herd / 4.0 + 60.0)
    while time.time() < deadline:
        a_seen = len(lags(bench.rows(herd_label), s1))
        if len(lags(b_rows(), s1)) >= SMALL and (a_seen >= c.herd or system != "kron"):
            break
        await bench.sleep_until(min(deadline, time.time() + 1.0), kron)
    a_rows = [r for r in bench.rows(herd_label) if r.nominal is not None and round(r.nominal) == s1]
    b_alone, b_herd = lags(b_rows(), s0), lags(b_rows(), s1)
    b_s1 = [r for r in b_rows() if r.nominal is not None and round(r.nominal) == s1]
    a_lags = sorted(r.seen - s1 for r in a_rows)
    result: dict[str, Any] = {
        "herd_namespace_objects": c.herd,
        "small_namespace_objects": SMALL,
        "b_alone_seen": len(b_alone),
        "b_herd_seen": len(b_herd),
        "b_alone_p50_s": round(percentile(b_alone, 50), 4),
        "b_alone_p99_s": round(percentile(b_alone, 99), 4),
        "b_herd_p50_s": round(percentile(b_herd, 50), 4),
        "b_herd_p99_s": round(percentile(b_herd, 99), 4),
        "a_herd_seen": len(a_rows),
        "a_herd_drain_s": round(a_lags[-1], 3) if len(a_rows) >= c.herd else math.nan,
        "created_s": round(created_s, 1),
        "settled_before_s0": settled,
        "b_lags_alone": b_alone,
        "b_lags_herd": b_herd,
    }
    alone = result["b_alone_p99_s"]
    result["p99_ratio"] = round(result["b_herd_p99_s"] / alone, 2) if alone > 0 else math.nan
    if b_s1 and a_rows:
        last_b = max(r.seen for r in b_s1)
        # Runs of A's herd that the API server created before B's last run at S1.
        result["a_runs_before_b_last"] = sum(1 for r in a_rows if r.seen < last_b)
    if kron is not None:
        result.update(bench.kron_counters(kron, label))
        kron.stop()
    log.info("%s: %s", label, {k: v for k, v in result.items() if not k.startswith("b_lags")})
    for ns in (herd_ns, small_ns):
        await bench.cleanup(ns, owners)
    return result


async def drained(bench: Bench, kron: Kron, before: float) -> bool:
    """Wait (until `before` at most) for kron's create, status and due queues to empty.

    kron refreshes its gauges every few seconds and sees new objects by watch: the
    queues are read after a pause, so objects just created are counted."""
    await bench.sleep_until(min(before, time.time() + 6.0), kron)
    while time.time() < before:
        _, text = kron.get("/metrics")
        depth = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("kron_queue_depth{")
            and any(f'queue="{q}"' in line for q in ("due", "create", "status"))
        )
        if text and depth == 0:
            return True
        await bench.sleep_until(min(before, time.time() + 1.0), kron)
    return False
