"""`make bench` / `python -m bench`: run every phase once and write `.bench/latest.json`.

Profiles (BENCH_PROFILE): `quick` (default, about 30 minutes on 2 cores), `full`, and
`scale` (10,000 then 100,000 tasks, hack/bench/scale.py; about 50 minutes).
Any profile value can be overridden from the environment:

    BENCH_TASKS, BENCH_HERD, BENCH_PERIOD (minutes), BENCH_WARMUP, BENCH_WINDOW,
    BENCH_GRACE (s),
    BENCH_RAW_JOBS, BENCH_WORKERS (kron --workers and the raw client's concurrency),
    BENCH_RUN (noop | pod), BENCH_KRON_FLAGS (extra `kron run` flags),
    BENCH_PHASES (comma list of: raw, kron-steady, kron-herd, kron-herd-unthrottled,
    kron-shards, cron-steady, cron-herd, noisy-kron, noisy-cron; kron-scale is the
    scale profile's),
    BENCH_CRON_QPS (comma list of kube-controller-manager QPS values, default "20,<kron qps>"),
    BENCH_OUT (file, default .bench/latest.json), BENCH_CLUSTER (cluster root,
    default .bench/cluster; `shared` uses the repository's .local-cluster),
    BENCH_PYSPY=1 (py-spy samples kron in its steady window and herd: .bench/pyspy-*.txt),
    BENCH_KEEP_CLUSTER=1 (leave the bench cluster running; one found running is kept).

`python -m bench --docs` rewrites the tables of docs/performance.md from `.bench/latest.json`
(as does `python -m bench.report --write`; `make verify` checks them).

A run of some phases only into `.bench/latest.json` keeps what the last run measured
for the sections it did not run: the noisy-neighbour section (noisy-kron, noisy-cron)
and the rest are each measured, dated and recorded separately.

The bench cluster is a second local control plane, so tests on the shared one neither
disturb its settings (kube-controller-manager is restarted with other QPS values) nor
see its objects; it starts from an empty etcd and is removed at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.noisy import noisy_neighbour
from bench.phases import Bench, Config
from bench.procs import BenchError, Watcher, load_average
from bench.report import PAGE, plot, summary_table, update_page, write_json
from bench.scale import scale
from bench.shards import shards
from kron.k8s.api import KubeApi
from kron.settings import Settings as KronSettings
from localcluster.cluster import LocalCluster
from localcluster.layout import DEFAULT_ROOT

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("bench")

ALL_PHASES = (
    "raw",
    "kron-steady",
    "kron-herd",
    "kron-herd-unthrottled",
    "kron-shards",
    "cron-steady",
    "cron-herd",
    "noisy-kron",
    "noisy-cron",
    "kron-scale",
)
DEFAULT_PHASES = {"scale": "raw,kron-scale"}
NOT_SETTINGS = ("kubeconfig", "out_dir", "kubectl")
"""Config fields that are paths on this machine, not settings of the run."""
UNTHROTTLED = ("--qps", "1000000", "--burst", "1000000")
"""kron's client rate limit out of the way: the herd then drains at whatever kron's
CPU and the API server allow (`herd_unthrottled_per_s`)."""


@dataclass(frozen=True)
class Profile:
    tasks: int
    herd: int
    period: int
    warmup: float
    window: float
    raw_jobs: int
    grace: float
    """Seconds after the window a tick may still fire before it counts as missed."""
    cron_herds: int
    """At how many of the controller-manager QPS settings the CronJob herd runs."""


PROFILES = {
    # 5,000 tasks every 5 minutes: 16.7 fires/s, what this 2-core machine sustains for
    # the whole control plane with headroom (at 50 fires/s its API server saturates).
    # The CronJob herd runs at the first controller-manager QPS only (the default, 20),
    # which alone takes about 200 s for 2,000 CronJobs; `full` runs it at each QPS.
    "quick": Profile(
        tasks=5000,
        herd=2000,
        period=5,
        warmup=30,
        window=100,
        raw_jobs=3000,
        grace=30,
        cron_herds=1,
    ),
    # 10,000 then 100,000 tasks (hack/bench/scale.py); its own phases by default.
    "scale": Profile(
        tasks=0,
        herd=2000,
        period=5,
        warmup=0,
        window=120,
        raw_jobs=3000,
        grace=30,
        cron_herds=0,
    ),
    "full": Profile(
        tasks=10000,
        herd=5000,
        period=5,
        warmup=60,
        window=300,
        raw_jobs=6000,
        grace=300,
        cron_herds=2,
    ),
}


def env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def kron_qps(flags: list[str]) -> tuple[int, int]:
    """kron's client QPS/burst after BENCH_KRON_FLAGS (the defaults otherwise)."""
    defaults = KronSettings()
    qps, burst = defaults.qps, defaults.burst
    for flag, value in zip(flags, [*flags[1:], ""], strict=False):
        if flag == "--qps":
            qps = float(value)
        elif flag == "--burst":
            burst = int(value)
    return int(qps), int(burst)


def kcm_burst(kcm_qps: int, kron_qps: int, kron_burst: int) -> int:
    """kron's own burst when the QPS matches kron's, else upstream's ratio (20/30)."""
    return kron_burst if kcm_qps == kron_qps else int(kcm_qps * 1.5)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "note": "every component (etcd, API server, controllers, kwok, kron, watcher, driver) "
        "shares these cores",
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""


def cluster_up(cluster: LocalCluster, qps: int, burst: int) -> int:
    """(Re)configure kube-controller-manager's client limit; return its pid."""
    os.environ["KRON_KCM_QPS"] = str(qps)
    os.environ["KRON_KCM_BURST"] = str(burst)
    cluster.up()
    pid = cluster.status()["components"]["kube-controller-manager"]["pid"]
    if not pid:
        raise BenchError("kube-controller-manager is not running")
    return int(pid)


def install_crd(cluster: LocalCluster) -> None:
    kubectl = [str(cluster.bin_dir / "kubectl"), "--kubeconfig", str(cluster.kubeconfig)]
    crds = [
        ROOT / "crds" / "kron.dev_scheduledtasks.yaml",
        ROOT / "crds" / "kron.dev_calendars.yaml",
    ]
    subprocess.run(
        [*kubectl, "apply", "--server-side", "--force-conflicts"]
        + [arg for crd in crds for arg in ("-f", str(crd))],
        check=True,
        capture_output=True,
    )
    # On a cluster that has just started, `kubectl wait` right after the apply can fail
    # at once (seen twice on a loaded machine) rather than wait: try again a few times.
    for attempt in range(5):
        waited = subprocess.run(
            [
                *kubectl,
                "wait",
                "--for=condition=Established",
                "crd/scheduledtasks.kron.dev",
                "crd/calendars.kron.dev",
                "--timeout=60s",
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if waited.returncode == 0:
            return
        log.info("CRD not Established yet (attempt %d): %s", attempt + 1, waited.stderr.strip())
        time.sleep(2.0)
    raise BenchError(f"kron's CRDs are not Established: {waited.stderr.strip()}")


async def run(profile_name: str, profile: Profile) -> dict[str, Any]:
    default = DEFAULT_PHASES.get(profile_name, ",".join(p for p in ALL_PHASES if p != "kron-scale"))
    phases = [p.strip() for p in os.environ.get("BENCH_PHASES", default).split(",")]
    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        raise BenchError(f"unknown BENCH_PHASES {sorted(unknown)}; known: {', '.join(ALL_PHASES)}")
    kron_flags = shlex.split(os.environ.get("BENCH_KRON_FLAGS", ""))
    qps, burst = kron_qps(kron_flags)
    cron_qps = [
        int(v) for v in os.environ.get("BENCH_CRON_QPS", f"20,{qps}").split(",") if v.strip()
    ]
    where = os.environ.get("BENCH_CLUSTER", str(ROOT / ".bench" / "cluster"))
    root = DEFAULT_ROOT if where == "shared" else Path(where)
    cluster = LocalCluster(root=root)
    out = Path(os.environ.get("BENCH_OUT", str(ROOT / ".bench" / "latest.json")))
    out_dir = out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = dt.datetime.now(dt.UTC).strftime("%H%M%S")
    config = Config(
        kubeconfig=cluster.kubeconfig,
        out_dir=out_dir,
        run_id=run_id,
        tasks=int(env_number("BENCH_TASKS", profile.tasks)),
        herd=int(env_number("BENCH_HERD", profile.herd)),
        period_min=int(env_number("BENCH_PERIOD", profile.period)),
        warmup_s=env_number("BENCH_WARMUP", profile.warmup),
        window_s=env_number("BENCH_WINDOW", profile.window),
        raw_jobs=int(env_number("BENCH_RAW_JOBS", profile.raw_jobs)),
        workers=int(env_number("BENCH_WORKERS", KronSettings().workers)),
        run=os.environ.get("BENCH_RUN", "noop"),
        kron_flags=kron_flags,
        pyspy=os.environ.get("BENCH_PYSPY", "") == "1",
        grace_s=env_number("BENCH_GRACE", profile.grace),
        kubectl=cluster.bin_dir / "kubectl",
    )
    started = time.time()
    was_up = bool(cluster.status()["up"])
    keep = os.environ.get("BENCH_KEEP_CLUSTER", "") == "1" or where == "shared" or was_up
    kcm_pid = cluster_up(cluster, 20, 30)
    install_crd(cluster)
    watcher = Watcher(cluster.kubeconfig, out_dir / f"watch-{run_id}.csv").start()
    api = await KubeApi.connect(str(cluster.kubeconfig), pool_size=config.workers + 8)
    bench = Bench(config, api, watcher)
    bench.components = lambda: {
        name: int(info["pid"])
        for name, info in cluster.status()["components"].items()
        if info.get("pid")
    }
    results: dict[str, Any] = {}
    loads: dict[str, list[float]] = {}
    try:
        if "raw" in phases:
            results["raw"] = await bench.raw()
            loads["raw"] = list(load_average())
        raw_rate = results.get("raw", {}).get("raw_create_per_s")
        if "kron-steady" in phases:
            results["kron_steady"] = await bench.steady("kron", "kron-steady", None)
            loads["kron-steady"] = list(load_average())
        if "kron-herd" in phases:
            results["kron_herd"] = await bench.herd("kron", "kron-herd", None, raw_rate)
            loads["kron-herd"] = list(load_average())
        if "kron-herd-unthrottled" in phases:
            results["kron_herd_unthrottled"] = await bench.herd(
                "kron", "kron-herd-unthrottled", None, raw_rate, UNTHROTTLED
            )
            loads["kron-herd-unthrottled"] = list(load_average())
        if "kron-shards" in phases:
            results["kron_shards"] = await shards(bench)
            loads["kron-shards"] = list(load_average())
        if "kron-scale" in phases:
            sizes = [int(v) for v in os.environ.get("BENCH_SCALE_SIZES", "10000,100000").split(",")]
            components = cluster.status()["components"]
            pids = {n: int(components[n]["pid"]) for n in ("kube-apiserver", "etcd")}
            results["kron_scale"] = await scale(bench, sizes, pids)
            loads["kron-scale"] = list(load_average())
        if "noisy-kron" in phases:
            results["noisy_kron"] = await noisy_neighbour(bench, "kron", "noisy-kron", None)
            loads["noisy-kron"] = list(load_average())
        for n, cq in enumerate(cron_qps):
            if not {"cron-steady", "cron-herd", "noisy-cron"} & set(phases):
                break
            if not {"cron-steady", "cron-herd"} & set(phases) and n >= profile.cron_herds:
                break
            quiet = await bench.quiesce()
            log.info("cron q%s: earlier phases' namespaces gone after %.1fs", cq, quiet)
            results.setdefault("quiesce_s", {})[f"cron-q{cq}"] = quiet
            kcm_pid = cluster_up(cluster, cq, kcm_burst(cq, qps, burst))
            if "cron-steady" in phases:
                results[f"cron_steady_qps{cq}"] = await bench.steady(
                    "cronjob", f"cron-steady-q{cq}", kcm_pid
                )
                loads[f"cron-steady-q{cq}"] = list(load_average())
            if "cron-herd" in phases and n < profile.cron_herds:
                results[f"cron_herd_qps{cq}"] = await bench.herd(
                    "cronjob", f"cron-herd-q{cq}", kcm_pid, raw_rate
                )
                loads[f"cron-herd-q{cq}"] = list(load_average())
            if "noisy-cron" in phases and n < profile.cron_herds:
                if {"cron-steady", "cron-herd"} & set(phases):
                    await bench.quiesce()
                results[f"noisy_cron_qps{cq}"] = await noisy_neighbour(
                    bench, "cronjob", f"noisy-cron-q{cq}", kcm_pid
                )
                loads[f"noisy-cron-q{cq}"] = list(load_average())
    finally:
        bench.stop_all()
        watcher.stop()
        await api.close()
        if keep:
            cluster_up(cluster, 20, 30)  # as it was found
        else:
            cluster.down()
    elapsed = time.time() - started
    settings = {
        "profile": profile_name,
        "phases": phases,
        **{k: v for k, v in asdict(config).items() if k not in NOT_SETTINGS},
        "kron_qps": qps,
        "kron_burst": burst,
        "kcm_qps_runs": [{"qps": q, "burst": kcm_burst(q, qps, burst)} for q in cron_qps],
        "kcm_qps_for_kron_phases": {"qps": 20, "burst": 30},
        "scheduler_qps": {"qps": 50, "burst": 100},
        "cluster_root": str(root),
        "apiserver_client": "admin kubeconfig (system:masters: exempt from API Priority and "
        "Fairness) for kron, the watcher and the driver",
        "machine": machine(),
        "load_average_after_phase": loads,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(),
        "command": os.environ.get("BENCH_COMMAND", "make bench"),
        "elapsed_s": round(elapsed, 1),
    }
    return {"results": results, "settings": settings}


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return
    if "--docs" in sys.argv[1:]:  # rewrite the performance page from .bench/latest.json
        latest = json.loads((ROOT / ".bench" / "latest.json").read_text())
        if not update_page(PAGE, latest):
            sys.exit(f"{PAGE} has no bench:start/bench:end markers")
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S"
    )
    logging.getLogger("localcluster").setLevel(logging.WARNING)
    # SIGTERM too unwinds (stops kron and the watcher, removes the bench cluster).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    profile_name = os.environ.get("BENCH_PROFILE", "quick")
    if profile_name not in PROFILES:
        sys.exit(f"BENCH_PROFILE must be one of {', '.join(PROFILES)}, not {profile_name!r}")
    try:
        measured = asyncio.run(run(profile_name, PROFILES[profile_name]))
    except BenchError as err:
        sys.exit(f"bench failed: {err}")
    out = Path(os.environ.get("BENCH_OUT", str(ROOT / ".bench" / "latest.json")))
    previous = json.loads(out.read_text()) if out.exists() else None
    document = write_json(out, measured, previous)
    png = out.with_suffix(".png")
    if plot(png, measured):
        print(f"wrote {png}")
    print(f"wrote {out}")
    print(summary_table(document))
    if out == ROOT / ".bench" / "latest.json" and update_page(PAGE, document):
        print(f"updated the tables in {PAGE.relative_to(ROOT)}")
    if any(isinstance(v, float) and math.isnan(v) for v in document["kron"].values()):
        print("note: some kron values are NaN (a phase did not run or did not complete)")


if __name__ == "__main__":
    main()
