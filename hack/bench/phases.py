"""The benchmark's phases, each on its own namespace, each cleaned up afterwards.

raw       Jobs created as fast as kron's own client allows (same pool size and
          concurrency as `kron run --workers`, no client rate limit): the ceiling.
steady    N objects firing once per period, spread over the period; lag of every
          run whose nominal instant falls in the measurement window.
herd      H objects firing on the same instant; time until every run exists.

kron runs as `python -m kron run` (a subprocess per phase); CronJobs are served by
the cluster's kube-controller-manager. The watcher (its own process) sees both.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import requests, workload
from bench.procs import BenchError, CpuShares, Kron, Usage, Watcher, peak_rss_mb, usage
from bench.stats import Seen, drain_curve, lag_report, percentile, read_rows
from kron.k8s.api import ApiError, KubeApi

log = logging.getLogger("bench")

TASKS_PATH = "/apis/kron.dev/v1alpha1/namespaces/{ns}/scheduledtasks"
CRONJOBS_PATH = "/apis/batch/v1/namespaces/{ns}/cronjobs"
JOBS_PATH = "/apis/batch/v1/namespaces/{ns}/jobs"
CREATE_CONCURRENCY = 32
HERD_MARGIN_S = 20.0
RESTART_SETTLE_S = 20.0
SETTLE_LIMIT_S = 240.0


@dataclass
class Config:
    kubeconfig: Path
    out_dir: Path
    run_id: str
    tasks: int
    herd: int
    period_min: int
    warmup_s: float
    window_s: float
    raw_jobs: int
    workers: int
    run: str = "noop"
    kron_flags: list[str] = field(default_factory=list)
    pyspy: bool = False
    grace_s: float = 120.0
    kubectl: Path | None = None
    """For the API server's own request counters (`bench.requests`)."""


@dataclass
class Sampler:
    """Readings of one process while a phase runs (RSS and CPU from /proc)."""

    pid: int
    readings: list[Usage] = field(default_factory=list)

    def read(self) -> Usage:
        reading = usage(self.pid)
        self.readings.append(reading)
        return reading


class Bench:
    def __init__(self, config: Config, api: KubeApi, watcher: Watcher) -> None:
        self.c = config
        self.api = api
        self.watcher = watcher
        self.krons: list[Kron] = []
        self.create_rate = 100.0
        """Objects/s the driver managed to create (first estimate; refined as it goes)."""
        self.deleted: list[str] = []
        """Namespaces earlier phases deleted (their contents may still be going)."""
        self.components: Callable[[], dict[str, int]] = dict
        """The control plane's processes by name (pids), read when a phase measures."""

    # -- helpers --------------------------------------------------------------------

    def cpu_shares(self, **more: int) -> CpuShares:
        """CPU of the control plane, this driver, the watcher and `more` over a stretch."""
        pids = {**self.components(), "driver": os.getpid(), **more}
        if self.watcher.process is not None:
            pids["watcher"] = self.watcher.process.pid
        return CpuShares(pids)

    def namespace(self, label: str) -> str:
        return f"bench-{self.c.run_id}-{label}"

    async def make_namespace(self, name: str) -> None:
        await self.api.request(
            "POST", "/api/v1/namespaces", body={"metadata": {"name": name}, "apiVersion": "v1"}
        )
        if self.c.run == "pod":
            # Pods are refused until the namespace's default ServiceAccount exists.
            path = f"/api/v1/namespaces/{name}/serviceaccounts/default"
            await self.until(lambda: self._exists(path), 60, f"ServiceAccount in {name}")

    async def _exists(self, path: str) -> bool:
        try:
            await self.api.request("GET", path)
        except ApiError as err:
            if err.not_found:
                return False
            raise
        return True

    async def _gone(self, path: str) -> bool:
        return not await self._exists(path)

    async def quiesce(self, limit: float = 600.0) -> float:
        """Wait until the namespaces of earlier phases are gone; seconds it took.

        Their removal is kube-controller-manager's work (namespace controller, garbage
        collector, and the Job controller still finishing their Jobs). A CronJob phase
        started before that ends would measure the controller-manager's backlog from
        the phases before it, not the CronJob controller.
        """
        started = time.monotonic()
        for ns in self.deleted:
            path = f"/api/v1/namespaces/{ns}"
            await self.until(lambda path=path: self._gone(path), limit, f"namespace {ns} gone")
        self.deleted.clear()
        return round(time.monotonic() - started, 1)

    async def until(self, check: Callable[[], Any], limit: float, what: str) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.5)
        raise BenchError(f"timed out after {limit:.0f}s waiting for {what}")

    async def create_all(self, path: str, bodies: list[dict[str, Any]]) -> float:
        """Create every object (retrying throttling and server errors); seconds taken."""
        queue = list(reversed(bodies))
        started = time.time()

        async def worker() -> None:
            while queue:
                body = queue.pop()
                try:
                    await self._retrying("POST", path, body, attempts=20, pause=0.1)
                except ApiError as err:
                    raise BenchError(f"cannot create {body['metadata']['name']}: {err}") from None

        await asyncio.gather(*(worker() for _ in range(CREATE_CONCURRENCY)))
        took = time.time() - started
        self.create_rate = len(bodies) / max(took, 1e-3)
        return took

    async def cleanup(self, ns: str, owners_path: str | None) -> None:
        """Owners first (so nothing new fires), then their Jobs, then the namespace."""
        background = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
        }
        for path in (owners_path, JOBS_PATH):
            if path is not None:
                await self._delete(path.format(ns=ns), background)
        await self._delete(f"/api/v1/namespaces/{ns}", background)
        self.deleted.append(ns)

    async def _delete(self, path: str, body: dict[str, Any]) -> None:
        """A delete that outlasts a loaded API server: a collection of thousands of
        objects can exceed the server's own request timeout (504) while it goes on
        deleting; asking again finishes what is left."""
        await self._retrying("DELETE", path, body, attempts=5, pause=2.0, request_timeout=300.0)

    async def _retrying(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        attempts: int,
        pause: float,
        **options: Any,
    ) -> None:
        """`method` until it succeeds (a create: or finds the object there), retrying
        throttling and server errors with a growing pause; else the last ApiError.
        `options` go to the request as they are (`request_timeout`)."""
        for attempt in range(attempts):
            try:
                await self.api.request(method, path, body=body, **options)
                return
            except ApiError as err:
                if method == "POST" and err.already_exists:
                    return
                if not err.retryable or attempt == attempts - 1:
                    raise
                log.debug("%s %s: %s; asking again", method, path, err)
                await asyncio.sleep(pause * (attempt + 1))

    def rows(self, label: str) -> list[Seen]:
        self.watcher.check_alive()
        return read_rows(self.watcher.out, phase=label)

    async def subject(
        self, system: str, label: str, subject_pid: int | None, flags: tuple[str, ...] = ()
    ) -> tuple[str, Kron | None, int]:
        """A fresh namespace for the phase, and the process measured in it: a kron
        started (and ready) there, with `flags` after the bench's own, or the
        kube-controller-manager `subject_pid`."""
        ns = self.namespace(label)
        await self.make_namespace(ns)
        kron = None
        if system == "kron":
            kron = self.start_kron(ns, label, flags)
            kron.wait_ready()
            subject_pid = kron.pid
        assert subject_pid is not None
        return ns, kron, subject_pid

    def start_kron(self, ns: str, label: str, flags: tuple[str, ...] = ()) -> Kron:
        kron = Kron(
            self.c.kubeconfig,
            [ns],
            self.c.out_dir / "logs" / f"kron-{label}.log",
            flags=["--workers", str(self.c.workers), *self.c.kron_flags, *flags],
        )
        self.krons.append(kron)
        return kron.start()

    def stop_all(self) -> None:
        """Stop every kron this run started (a failed or interrupted phase too)."""
        for kron in self.krons:
            kron.stop()

    def profile(self, kron: Kron, label: str, seconds: float) -> None:
        """With BENCH_PYSPY=1: sample kron with py-spy (collapsed stacks: `python -m
        bench.pyspy_top FILE` sums them by function)."""
        if not self.c.pyspy:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out = self.c.out_dir / f"pyspy-{label}.txt"
        cmd = [
            spy,
            "record",
            "--pid",
            str(kron.pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ]
        log.info("profiling kron: %s", " ".join(cmd))
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # -- the ceiling ----------------------------------------------------------------

    async def raw(self) -> dict[str, Any]:
        label = "raw"
        ns = self.namespace(label)
        await self.make_namespace(ns)
        bodies = [
            workload.raw_job(f"raw-{i:05d}", ns, label, self.c.run) for i in range(self.c.raw_jobs)
        ]
        queue = list(reversed(bodies))
        done: list[float] = []
        path = JOBS_PATH.format(ns=ns)
        started = time.time()
        shares = self.cpu_shares().start()

        async def worker() -> None:
            while queue:
                body = queue.pop()
                await self.api.request("POST", path, body=body)
                done.append(time.time())

        await asyncio.gather(*(worker() for _ in range(self.c.workers)))
        cpu = shares.stop(len(bodies))
        client_s = max(done) - started
        await self.until(lambda: len(self.rows(label)) >= len(bodies), 60, "raw Jobs seen")
        seen = sorted(r.seen for r in self.rows(label))
        result = {
            "jobs": len(bodies),
            "concurrency": self.c.workers,
            "client_s": round(client_s, 3),
            "raw_create_per_s": round(len(bodies) / client_s, 1),
            "watcher_span_s": round(seen[-1] - seen[0], 3),
            "watcher_per_s": round((len(seen) - 1) / max(seen[-1] - seen[0], 1e-3), 1),
            "cpu": cpu,
        }
        log.info("raw: %s", result)
        await self.cleanup(ns, None)
        return result

    # -- steady state ---------------------------------------------------------------

    async def steady(self, system: str, label: str, subject_pid: int | None) -> dict[str, Any]:
        """`system` kron or cronjob; `subject_pid` the KCM's for cronjob."""
        c = self.c
        ns, kron, subject_pid = await self.subject(system, label, subject_pid)
        slots: dict[str, workload.Slot] = {}
        bodies = []
        for i in range(c.tasks):
            name = f"s{i:05d}"
            if system == "kron":
                slot = workload.kron_slot(i, c.period_min)
                sched = workload.kron_schedule(slot)
                bodies.append(workload.task(name, ns, sched, label, c.run))
            else:
                slot = workload.cron_slot(i, c.period_min)
                sched = workload.cron_schedule(slot)
                bodies.append(workload.cronjob(name, ns, sched, label, c.run))
            slots[name] = slot
        owners = TASKS_PATH if system == "kron" else CRONJOBS_PATH
        created_s = await self.create_all(owners.format(ns=ns), bodies)
        log.info("%s: %d objects created in %.1fs", label, len(bodies), created_s)

        if kron is not None:
            backlog_s = await self.settle(kron)
            log.info(
                "%s: kron's status backlog drained %.0fs after the last create", label, backlog_s
            )
        else:
            backlog_s = 0.0
        sampler = Sampler(subject_pid)
        t0 = math.ceil(time.time() + c.warmup_s)
        t1 = t0 + c.window_s
        await self.sleep_until(t0, kron)
        if kron is not None:
            self.profile(kron, label, c.window_s)
        start = sampler.read()
        counted = await self.apiserver_requests()
        while time.time() < t1:
            await self.sleep_until(min(t1, time.time() + 1.0), kron)
            sampler.read()
        end = sampler.readings[-1]
        if counted is not None:
            owner = "scheduledtasks" if system == "kron" else "cronjobs"
            after = await self.apiserver_requests()
            assert after is not None
            per_fire = requests.per_fire(counted, after, owner)
        else:
            per_fire = {}
        expected = {(name, t) for name, slot in slots.items() for t in slot.ticks(t0, t1)}
        grace_end = t1 + min(60 * c.period_min, c.grace_s) + 15
        while time.time() < grace_end:
            report = lag_report(self.rows(label), expected)
            if report.fired == report.expected:
                break
            await asyncio.sleep(2.0)
        report = lag_report(self.rows(label), expected)
        result: dict[str, Any] = {
            **report.summary(),
            "objects": c.tasks,
            "window_s": c.window_s,
            "missed_means": f"no run seen {min(60 * c.period_min, c.grace_s) + 15:.0f}s "
            "after the window closed",
            "fires_per_s": round(len(expected) / c.window_s, 1),
            "rss_mb": round(end.rss_mb, 1),
            "rss_max_mb": round(max(r.rss_mb for r in sampler.readings), 1),
            "cpu_s": round(end.cpu_s - start.cpu_s, 2),
            "cpu_share": round((end.cpu_s - start.cpu_s) / max(end.at - start.at, 1e-3), 3),
            "create_s": round(created_s, 1),
            "settle_s": round(backlog_s, 1),
            **per_fire,
            "lags": report.lags,
        }
        if per_fire.get("runs_created"):
            result["cpu_ms_per_run"] = round(
                (end.cpu_s - start.cpu_s) * 1000 / per_fire["runs_created"], 2
            )
        if kron is not None:
            result.update(self.kron_counters(kron, label))
            result.update(await self.restart(kron, ns, label))
            result["rss_window_mb"] = result["rss_mb"]
            result["rss_mb"] = max(result["rss_mb"], result["restart_rss_mb"])
        log.info("%s: %s", label, {k: v for k, v in result.items() if k != "lags"})
        await self.cleanup(ns, owners)
        return result

    async def apiserver_requests(self) -> Counter[str] | None:
        """The API server's request counters now (None without a kubectl)."""
        if self.c.kubectl is None:
            return None
        return await requests.read(self.c.kubectl, self.c.kubeconfig)

    async def settle(self, kron: Kron, limit: float = SETTLE_LIMIT_S) -> float:
        """Wait until kron has written the first status of every new task.

        Creating N tasks queues N status writes; until they are through, the window
        would measure that one-off backlog competing with creates at the API
        server, not the steady state. kron's queue gauges refresh every 5 s.
        """
        started = time.time()
        while time.time() - started < limit:
            await self.sleep_until(time.time() + 5.0, kron)
            _, text = kron.get("/metrics")
            depth = 0.0
            for line in text.splitlines():
                if line.startswith("kron_queue_depth{") and any(
                    f'queue="{q}"' in line for q in ("due", "create", "status")
                ):
                    depth += float(line.rsplit(" ", 1)[1])
            if depth == 0:
                return time.time() - started
        log.warning("kron's status backlog still not drained after %.0fs", limit)
        return time.time() - started

    def kron_counters(self, kron: Kron, label: str) -> dict[str, Any]:
        """kron's own view: API requests by verb and resource (write amplification)."""
        _, text = kron.get("/metrics")
        (self.c.out_dir / f"metrics-{label}.txt").write_text(text)
        requests: dict[str, float] = {}
        latency: dict[str, list[float]] = {}
        for line in text.splitlines():
            if line.startswith(
                (
                    "kron_api_request_duration_seconds_sum{",
                    "kron_api_request_duration_seconds_count{",
                )
            ):
                labels = dict(
                    part.split("=", 1)
                    for part in line[line.index("{") + 1 : line.index("}")].split(",")
                )
                verb, resource = (labels.get(k, "").strip('"') for k in ("verb", "resource"))
                pair = latency.setdefault(f"{verb} {resource}", [0.0, 0.0])
                pair[0 if "_sum{" in line else 1] = float(line.rsplit(" ", 1)[1])
            if line.startswith("kron_api_requests_total{"):
                labels = dict(
                    part.split("=", 1)
                    for part in line[line.index("{") + 1 : line.index("}")].split(",")
                )
                verb, resource = (labels.get(k, "").strip('"') for k in ("verb", "resource"))
                key = f"{verb} {resource}"
                requests[key] = requests.get(key, 0) + float(line.rsplit(" ", 1)[1])
        return {
            "kron_requests": requests,
            "kron_request_mean_s": {
                k: round(total / count, 4) for k, (total, count) in latency.items() if count
            },
            "kron_events_dropped": kron.metric("kron_events_dropped_total"),
        }

    async def restart(self, kron: Kron, ns: str, label: str) -> dict[str, Any]:
        """Stop kron and start it again with every task present: start to first fire."""
        kron.stop()
        fresh = self.start_kron(ns, f"{label}-restart")
        spawned = fresh.started_at
        try:
            ready_s = await asyncio.to_thread(fresh.wait_ready)
            await self.until(
                lambda: any(r.seen > spawned for r in self.rows(label)), 60, "a fire after restart"
            )
            first = min(r.seen for r in self.rows(label) if r.seen > spawned)
            # A real operator always starts from the full list: its RSS after some
            # firing is the one that counts, not that of a process that saw the
            # tasks arrive one by one.
            await self.sleep_until(time.time() + RESTART_SETTLE_S, fresh)
            rss_after = usage(fresh.pid).rss_mb
            peak = peak_rss_mb(fresh.pid)
        finally:
            fresh.stop()
        return {
            "start_ready_s": round(ready_s, 2),
            "start_to_first_fire_s": round(first - spawned, 2),
            "restart_rss_mb": round(rss_after, 1),
            "restart_peak_rss_mb": round(peak, 1),
        }

    async def sleep_until(self, instant: float, kron: Kron | None) -> None:
        while (left := instant - time.time()) > 0:
            if kron is not None:
                kron.check_alive()
            self.watcher.check_alive()
            await asyncio.sleep(min(left, 1.0))

    # -- the herd -------------------------------------------------------------------

    async def herd(
        self,
        system: str,
        label: str,
        subject_pid: int | None,
        raw_rate: float | None,
        flags: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """`flags`: more `kron run` flags (the unthrottled herd lifts the rate limit)."""
        c = self.c
        ns, kron, subject_pid = await self.subject(system, label, subject_pid, flags)
        ready_at = time.time() + c.herd / self.create_rate * 1.5 + HERD_MARGIN_S
        instant = math.ceil(ready_at) if system == "kron" else math.ceil(ready_at / 60) * 60
        bodies = []
        for i in range(c.herd):
            name = f"h{i:05d}"
            if system == "kron":
                bodies.append(
                    workload.task(name, ns, workload.at_instant_kron(instant), label, c.run)
                )
            else:
                bodies.append(
                    workload.cronjob(name, ns, workload.at_instant_cron(instant), label, c.run)
                )
        owners = TASKS_PATH if system == "kron" else CRONJOBS_PATH
        created_s = await self.create_all(owners.format(ns=ns), bodies)
        if time.time() > instant - 2:
            raise BenchError(
                f"{label}: creating {c.herd} objects took {created_s:.0f}s, past the herd instant"
            )
        log.info("%s: %d objects created in %.1fs; herd at %s", label, c.herd, created_s, instant)
        sampler = Sampler(subject_pid)
        await self.sleep_until(instant - 1, kron)
        if kron is not None:
            self.profile(kron, label, 30)
        writes_before = kron.metric("kron_status_writes_total") if kron is not None else 0.0
        shares = self.cpu_shares(**({"kron": kron.pid} if kron is not None else {}))
        await self.sleep_until(instant, kron)
        start = sampler.read()
        shares.start()
        deadline = instant + max(120.0, c.herd / 4.0)
        while time.time() < deadline and len(self.rows(label)) < c.herd:
            await self.sleep_until(time.time() + 0.25, kron)
            sampler.read()
        end = sampler.read()
        rows = self.rows(label)
        names = {r.name for r in rows}
        cpu = shares.stop(len(names))
        # CPU per run counts the herd's status writes too (gathered, so they follow).
        settled = end
        if kron is not None:
            try:
                await self.until(
                    lambda: kron.metric("kron_status_writes_total") - writes_before >= len(names),
                    120,
                    "a status write recording each herd run",
                )
            except BenchError as err:
                log.warning("%s: %s; CPU per run counts what was written", label, err)
            settled = sampler.read()
        curve = drain_curve(rows, instant)
        tasks = {r.task for r in rows}
        complete = len(tasks) >= c.herd
        drain = curve[-1] if complete and curve else math.nan
        result: dict[str, Any] = {
            "herd_size": c.herd,
            "herd_runs_seen": len(names),
            "herd_drain_s": round(drain, 3),
            "herd_first_s": round(curve[0], 3) if curve else math.nan,
            "herd_p50_s": round(percentile(curve, 50), 3),
            "herd_rate_per_s": round(c.herd / drain, 1) if complete and drain > 0 else math.nan,
            "herd_duplicates": len(rows) - len(names) + (len(names) - len(tasks)),
            "herd_missed": c.herd - len(tasks),
            "herd_cpu_s": round(end.cpu_s - start.cpu_s, 2),
            "herd_cpu_ms_per_run": round((settled.cpu_s - start.cpu_s) * 1000 / len(names), 2)
            if names
            else math.nan,
            "herd_rss_mb": round(max(r.rss_mb for r in sampler.readings), 1),
            "cpu": cpu,
            "curve": curve,
        }
        if raw_rate and complete and drain > 0:
            result["herd_vs_raw"] = round(c.herd / drain / raw_rate, 3)
        if kron is not None:
            result.update(self.kron_counters(kron, label))
            kron.stop()
        log.info("%s: %s", label, {k: v for k, v in result.items() if k != "curve"})
        await self.cleanup(ns, owners)
        return result
