"""The parts of `.bench/latest.json` measured by their own phases (scale, shards) and
the cost per fire, each with the lines of docs/performance.md that show it.

A section a run did not measure is kept from the last document with its own date
and commit, so `BENCH_PROFILE=scale` does not erase the quick profile's figures nor
the other way round.
"""

from __future__ import annotations

import math
from typing import Any

from bench.numbers import fmt, num

SECTIONS = {"scale": "kron_scale", "shards": "kron_shards"}
"""Document key: the result key of the phase that measures it."""
GOAL_REQUESTS_PER_FIRE = 1.5
GOAL_RSS_MB = {10_000: 250.0, 100_000: 1024.0}


def stamp(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: settings.get(k) for k in ("date", "commit", "command", "profile", "kron_qps")}


def measured_sections(
    measured: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """{"scale": ..., "shards": ...}: this run's where it ran them, else the last's."""
    r, s = measured["results"], measured["settings"]
    out: dict[str, dict[str, Any]] = {}
    for key, result in SECTIONS.items():
        if result in r:
            section = {**r[result], "measured": stamp(s)}
            if key == "scale":
                section["raw_create_per_s"] = r.get("raw", {}).get("raw_create_per_s")
            out[key] = section
        elif isinstance((previous or {}).get(key), dict):
            out[key] = previous[key]  # type: ignore[index]
    return out


def scale_goals(scale: dict[str, Any]) -> dict[str, Any]:
    """RSS goals at 10,000 and 100,000 tasks: the larger of steady and after a restart."""
    goals: dict[str, Any] = {}
    for tasks, limit in GOAL_RSS_MB.items():
        row = scale.get(str(tasks))
        if not isinstance(row, dict):
            continue
        rss = max(row.get("rss_mb") or 0.0, row.get("restart_rss_mb") or 0.0)
        name = f"rss_le_{int(limit)}mb_at_{tasks // 1000}k"
        goals[name] = {"rss_mb": rss, "tasks": tasks, "met": bool(rss <= limit)}
    return goals


def requests_goal(doc: dict[str, Any]) -> dict[str, Any]:
    value = num(doc["kron"].get("requests_per_fire"))
    met = None if math.isnan(value) else bool(value <= GOAL_REQUESTS_PER_FIRE)
    return {"requests_per_fire_le_1_5": {"value": value, "met": met}}


def _measured_line(section: dict[str, Any]) -> str:
    m = section.get("measured") or {}
    date, commit, command = (m.get(k, "?") for k in ("date", "commit", "command"))
    return f"Measured {date} at commit `{commit}` with `{command}`."


def cost_table(doc: dict[str, Any]) -> list[str]:
    """API requests and CPU per fire, kron beside CronJob, from the steady windows."""
    systems = [("kron", doc.get("kron") or {})] + [
        (f"CronJob, KCM {v['kcm_qps']} QPS", v)
        for k, v in doc.items()
        if k.startswith("cronjob") and isinstance(v, dict)
    ]
    if not any("requests_per_fire" in v for _, v in systems):
        return []
    rows = [
        "Cost per fire in the steady window, counted by the API server "
        "(`apiserver_request_total`): the fire path is the Job's create plus the owner's "
        "writes (ScheduledTask or CronJob status).",
        "",
        "| | " + " | ".join(name for name, _ in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    keys = sorted(
        {
            key
            for _, v in systems
            for key in (v.get("steady", {}).get("requests_per_fire_by_verb") or {})
        }
    )
    table = [("requests per fire (fire path)", lambda v: fmt(v.get("requests_per_fire")))]
    for key in keys:
        table.append(
            (
                f"`{key}` per fire",
                lambda v, key=key: fmt(
                    (v.get("steady", {}).get("requests_per_fire_by_verb") or {}).get(key, 0.0)
                ),
            )
        )
    table += [
        ("CPU ms per run (steady)", lambda v: fmt(v.get("cpu_ms_per_run"))),
        ("CPU ms per run (herd)", lambda v: fmt(v.get("herd", {}).get("herd_cpu_ms_per_run"))),
    ]
    for title, value in table:
        rows.append(f"| {title} | " + " | ".join(value(v) for _, v in systems) + " |")
    rows.append(
        "\nCronJob's CPU is kube-controller-manager's, all its controllers; the Job "
        "controller's and kwok's writes (Job status, Pods) are the same for both."
    )
    return rows


SCALE_ROWS = (
    ("fires per second", "fires_per_s", ""),
    ("fire lag p50", "lag_p50_s", " s"),
    ("fire lag p99", "lag_p99_s", " s"),
    ("missed / duplicates", None, ""),
    ("RSS while steady", "rss_mb", " MB"),
    ("CPU share while steady (1 = one core)", "cpu_share", ""),
    ("requests per fire (create + status)", "requests_per_fire", ""),
    ("start to ready (index loaded)", "start_ready_s", " s"),
    ("start to first fire", "start_to_first_fire_s", " s"),
    ("RSS after a restart, settled", "restart_rss_mb", " MB"),
    ("peak RSS after a restart", "restart_peak_rss_mb", " MB"),
    ("kube-apiserver CPU share / RSS", "kube-apiserver", ""),
    ("etcd CPU share / RSS", "etcd", ""),
)


def scale_table(scale: dict[str, Any]) -> list[str]:
    sizes = sorted((k for k in scale if k.isdigit()), key=int)
    if not sizes:
        return []
    rows = [
        f"Scale (`BENCH_PROFILE=scale`): tasks in 50 namespaces, mostly daily and hourly. "
        f"{_measured_line(scale)} Raw Job creates in the same run: "
        f"{fmt(scale.get('raw_create_per_s'))}/s.",
        "",
        "| tasks | " + " | ".join(f"{int(s):,}" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for title, key, unit in SCALE_ROWS:
        cells = []
        for size in sizes:
            row = scale[size]
            if key is None:
                cells.append(f"{row.get('missed', 0)} / {row.get('duplicates', 0)}")
            elif key in ("kube-apiserver", "etcd"):
                part = (row.get("control_plane") or {}).get(key) or {}
                cells.append(f"{fmt(part.get('cpu_share'))} / {fmt(part.get('rss_mb'), ' MB')}")
            else:
                cells.append(fmt(row.get(key), unit))
        rows.append(f"| {title} | " + " | ".join(cells) + " |")
    if "bytes_per_task" in scale:
        rows.append(
            f"\nMemory per task (slope of the restarted RSS between the sizes): "
            f"{scale['bytes_per_task']:,} bytes."
        )
    return rows


def shards_table(shards: dict[str, Any]) -> list[str]:
    layouts = sorted((k for k in shards if k.isdigit()), key=int)
    if not layouts:
        return []
    rows = [
        f"Shards (`kron-shards` phase): {shards.get('tasks', '?')} tasks in one namespace, "
        f"served by one replica and then by shards. {_measured_line(shards)}",
        "",
        "| replicas | CPU share per replica | mean | RSS per replica | lag p99 "
        "| missed / dup | runs from other shards |",
        "|---|---|---|---|---|---|---|",
    ]
    for count in layouts:
        row = shards[count]
        cpu = ", ".join(fmt(v) for v in row.get("cpu_share_per_replica", []))
        rss = ", ".join(fmt(v, " MB") for v in row.get("rss_mb_per_replica", []))
        rows.append(
            f"| {count} | {cpu} | {fmt(row.get('cpu_share_mean'))} | {rss} | "
            f"{fmt(row.get('lag_p99_s'), ' s')} | {row.get('missed', 0)} / "
            f"{row.get('duplicates', 0)} | {fmt(row.get('runs_other_shard'))} |"
        )
    if "per_replica_cpu_vs_one" in shards:
        rows.append(
            f"\nA shard's replica uses {fmt(shards['per_replica_cpu_vs_one'])} of the "
            "single replica's CPU."
        )
    return rows


CPU_PROCESSES = (
    "kron",
    "kube-apiserver",
    "etcd",
    "kube-controller-manager",
    "kwok",
    "kube-scheduler",
    "driver",
    "watcher",
)


def cpu_table(doc: dict[str, Any]) -> list[str]:
    """Where the machine's cores went while the raw client created its Jobs and while
    kron's herds drained: what limits a rate when every component shares them."""
    kron = doc.get("kron") or {}
    stretches = [
        ("raw creates", doc.get("raw") or {}, "raw_create_per_s"),
        ("kron herd", kron.get("herd") or {}, "herd_rate_per_s"),
        ("kron herd, unthrottled", kron.get("herd_unthrottled") or {}, "herd_rate_per_s"),
    ]
    shown = [(name, part, rate) for name, part, rate in stretches if "cpu" in part]
    if not shown:
        return []
    rows = [
        "CPU on this machine while Jobs were created (cores busy, from /proc; the driver "
        "is the bench process that sends the raw creates and the tasks).",
        "",
        "| | " + " | ".join(name for name, _, _ in shown) + " |",
        "|---|" + "---|" * len(shown),
        "| Jobs created per second | "
        + " | ".join(fmt(part.get(rate)) for _, part, rate in shown)
        + " |",
    ]
    cpu = [part["cpu"] for _, part, _ in shown]
    rows.append(
        "| machine cores busy (of "
        + str(cpu[0].get("cores", "?"))
        + ") | "
        + " | ".join(fmt(c.get("machine_busy_cores")) for c in cpu)
        + " |"
    )
    rows.append(
        "| CPU ms per Job, all processes | "
        + " | ".join(fmt(c.get("machine_cpu_ms_per_object")) for c in cpu)
        + " |"
    )
    for process in CPU_PROCESSES:
        key = f"{process}_cores"
        if any(key in c for c in cpu):
            rows.append(f"| {process} cores | " + " | ".join(fmt(c.get(key)) for c in cpu) + " |")
    return rows
