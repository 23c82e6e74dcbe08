"""`.bench/latest.json` in the agreed shape, the PNG, and the tables of the performance page.

    PYTHONPATH=hack python -m bench.report --write   rewrite docs/performance.md's tables
    PYTHONPATH=hack python -m bench.report --check   exit 1 if they differ from the JSON

The figures come from a run (`make bench`), so they are recorded data: `make verify`
checks only that the page shows what `.bench/latest.json` holds.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.numbers import fmt, num
from bench.sections import (
    SECTIONS,
    cost_table,
    cpu_table,
    measured_sections,
    requests_goal,
    scale_goals,
    scale_table,
    shards_table,
)

SAMPLE_KEYS = ("lags", "curve", "b_lags_alone", "b_lags_herd")
KEYS = (
    "lag_p50_s",
    "lag_p99_s",
    "lag_max_s",
    "herd_size",
    "herd_drain_s",
    "duplicates",
    "missed",
    "rss_mb",
    "cpu_s",
)
GOAL_P99_S = 0.1
GOAL_HERD_VS_RAW = 0.9
GOAL_P99_RATIO = 10.0
GOAL_RSS_MB = 250.0
GOAL_RSS_TASKS = 10_000
GOAL_NOISY_RATIO = 2.0
MAIN_PHASES = frozenset(
    {"raw", "kron-steady", "kron-herd", "kron-herd-unthrottled", "cron-steady", "cron-herd"}
)
"""A run of any of these but `raw` rewrites the main section (raw alone, as the scale
profile runs it for its own ratio, does not)."""
NOISY_PHASES = frozenset({"noisy-kron", "noisy-cron"})
NOISY_KEYS = ("noisy_neighbour", "noisy_neighbour_p99_ratio")


def _clean(value: Any) -> Any:
    """NaN is not JSON: missing measurements are null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in SAMPLE_KEYS}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _system(steady: dict[str, Any], herd: dict[str, Any]) -> dict[str, Any]:
    """One system's numbers: lag and resources from the steady phase, plus the herd."""
    nan = math.nan
    out: dict[str, Any] = {
        "lag_p50_s": steady.get("lag_p50_s", nan),
        "lag_p99_s": steady.get("lag_p99_s", nan),
        "lag_max_s": steady.get("lag_max_s", nan),
        "herd_size": herd.get("herd_size", 0),
        "herd_drain_s": herd.get("herd_drain_s", nan),
        "duplicates": steady.get("duplicates", 0) + herd.get("herd_duplicates", 0),
        "missed": steady.get("missed", 0) + herd.get("herd_missed", 0),
        "rss_mb": steady.get("rss_mb", nan),
        "cpu_s": steady.get("cpu_s", nan),
        "requests_per_fire": steady.get("requests_per_fire", nan),
        "cpu_ms_per_run": steady.get("cpu_ms_per_run", nan),
    }
    extra_steady = {k: v for k, v in steady.items() if k not in out and k not in SAMPLE_KEYS}
    extra_herd = {k: v for k, v in herd.items() if k not in out and k not in SAMPLE_KEYS}
    out["steady"] = extra_steady
    out["herd"] = extra_herd
    return out


def build(measured: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document for `measured`; sections whose phases did not run this time are
    taken from `previous` (the last document), each keeping its own date and commit."""
    s = measured["settings"]
    ran = set(s.get("phases", MAIN_PHASES | NOISY_PHASES))
    if previous is None or ran & (MAIN_PHASES - {"raw"}):
        doc = _main(measured)
    else:
        kept = (*NOISY_KEYS, *SECTIONS, "goals")
        doc = {k: v for k, v in previous.items() if k not in kept}
    doc.update(measured_sections(measured, previous))
    doc["noisy_neighbour"] = noisy_section(measured, (previous or {}).get("noisy_neighbour"))
    kron_noisy = doc["noisy_neighbour"].get("kron") or {}
    doc["noisy_neighbour_p99_ratio"] = kron_noisy.get("p99_ratio", math.nan)
    qps_runs = [run["qps"] for run in doc["settings"]["kcm_qps_runs"]]
    doc["goals"] = goals(doc, qps_runs)
    return doc


def noisy_section(
    measured: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """B's lag alone and beside A's herd, per system, each with when and how it was
    measured; systems this run did not measure are kept from `previous`."""
    r, s = measured["results"], measured["settings"]
    section: dict[str, Any] = {
        k: v for k, v in (previous or {}).items() if isinstance(v, dict) and "measured" in v
    }
    stamp = {k: s.get(k) for k in ("date", "commit", "command", "profile", "kron_qps")}
    if "noisy_kron" in r:
        section["kron"] = {**r["noisy_kron"], "measured": stamp}
    for run in s["kcm_qps_runs"]:
        key = f"noisy_cron_qps{run['qps']}"
        if key in r:
            section[f"cronjob_qps{run['qps']}"] = {
                **r[key],
                "kcm_qps": run["qps"],
                "measured": stamp,
            }
    return section


def _main(measured: dict[str, Any]) -> dict[str, Any]:
    r = measured["results"]
    s = measured["settings"]
    qps_runs = [run["qps"] for run in s["kcm_qps_runs"]]
    doc: dict[str, Any] = {
        "tasks": s["tasks"],
        "raw_create_per_s": r.get("raw", {}).get("raw_create_per_s", math.nan),
        "kron": _system(r.get("kron_steady", {}), r.get("kron_herd", {})),
    }
    doc["kron"]["steady"]["cpu_note"] = "CPU seconds of the kron process over the window"
    for i, q in enumerate(qps_runs):
        key = "cronjob" if i == 0 else f"cronjob_qps{q}"
        doc[key] = _system(r.get(f"cron_steady_qps{q}", {}), r.get(f"cron_herd_qps{q}", {}))
        doc[key]["kcm_qps"] = q
        doc[key]["steady"]["resources_of"] = "kube-controller-manager (all its controllers)"
    unthrottled = r.get("kron_herd_unthrottled", {})
    doc["herd_unthrottled_per_s"] = unthrottled.get("herd_rate_per_s", math.nan)
    doc["kron"]["herd_unthrottled"] = {k: v for k, v in unthrottled.items() if k not in SAMPLE_KEYS}
    doc["requests_per_fire"] = {
        key: value["requests_per_fire"]
        for key, value in doc.items()
        if isinstance(value, dict) and "requests_per_fire" in value
    }
    doc["raw"] = r.get("raw", {})
    doc["settings"] = s
    return doc


def goals(doc: dict[str, Any], qps_runs: list[int]) -> dict[str, Any]:
    kron = doc["kron"]
    p99 = num(kron["lag_p99_s"])
    out: dict[str, Any] = {
        "steady_p99_le_100ms": {"value_s": p99, "met": bool(p99 <= GOAL_P99_S)},
    }
    # With kron's client rate limit out of the way when that herd ran; else at its QPS.
    rate = num(doc.get("herd_unthrottled_per_s"))
    if math.isnan(rate):
        rate = num(kron["herd"].get("herd_rate_per_s"))
    raw = num(doc["raw_create_per_s"])
    ratio = rate / raw if raw and not math.isnan(raw) else math.nan
    out["herd_ge_90pct_raw"] = {
        "herd_per_s": rate,
        "raw_per_s": raw,
        "ratio": round(ratio, 3),
        "met": bool(ratio >= GOAL_HERD_VS_RAW),
    }
    for i, q in enumerate(qps_runs):
        key = "cronjob" if i == 0 else f"cronjob_qps{q}"
        theirs = num(doc[key]["lag_p99_s"])
        times = theirs / p99 if p99 and not math.isnan(p99) else math.nan
        out[f"p99_10x_lower_than_cronjob_qps{q}"] = {
            "ratio": round(times, 1),
            "met": bool(times >= GOAL_P99_RATIO),
        }
    rss, tasks = num(kron["rss_mb"]), doc["tasks"]
    out["rss_le_250mb_at_10k"] = {
        "rss_mb": rss,
        "tasks": tasks,
        "met": bool(rss <= GOAL_RSS_MB) if tasks >= GOAL_RSS_TASKS else None,
        "note": "" if tasks >= GOAL_RSS_TASKS else f"measured at {tasks} tasks, not 10,000",
    }
    out.update(scale_goals(doc.get("scale") or {}))  # the scale profile's, when measured
    out.update(requests_goal(doc))
    ratio = num(doc.get("noisy_neighbour_p99_ratio"))
    out["noisy_neighbour_p99_le_2x"] = {
        "ratio": ratio,
        "met": bool(ratio <= GOAL_NOISY_RATIO) if not math.isnan(ratio) else None,
    }
    return out


def write_json(
    path: Path, measured: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    doc = build(measured, previous)
    path.write_text(json.dumps(_clean(doc), indent=2) + "\n")
    samples = {
        name: {k: v for k, v in res.items() if k in SAMPLE_KEYS}
        for name, res in measured["results"].items()
    }
    path.with_name(path.stem + "-samples.json").write_text(json.dumps(samples))
    return doc


def plot(path: Path, measured: dict[str, Any]) -> bool:
    """Lag CDFs (left) and herd drain curves (right); False without matplotlib or when
    no phase measured any."""
    try:
        import matplotlib  # noqa: PLC0415 (optional: the bench extra)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib missing (pip install -e '.[bench]'): no PNG")
        return False
    r = measured["results"]
    if not any(res.get("lags") or res.get("curve") for res in r.values()):
        return False  # no steady or herd phase ran: keep the last figure
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for name, res in r.items():
        lags = sorted(res.get("lags") or [])
        if not lags:
            continue
        ys = [(i + 1) / len(lags) for i in range(len(lags))]
        left.plot([max(v, 1e-3) for v in lags], ys, label=_label(name, res))
    left.set_xscale("log")
    left.set_xlabel("fire lag: nominal instant to Job ADDED at the watcher (s, log)")
    left.set_ylabel("fraction of runs")
    left.set_title("Steady state: lag CDF")
    left.axvline(GOAL_P99_S, color="grey", linestyle=":", label="100 ms")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    raw = r.get("raw", {}).get("raw_create_per_s")
    longest = 0.0
    for name, res in r.items():
        curve = res.get("curve") or []
        if not curve:
            continue
        longest = max(longest, curve[-1])
        xs = [max(v, 1e-2) for v in curve]
        right.step(xs, range(1, len(curve) + 1), where="post", label=_label(name, res))
    if raw and longest:
        size = max(len(res.get("curve") or []) for res in r.values())
        xs = [0.01 * 1.1**i for i in range(200) if 0.01 * 1.1**i <= size / raw]
        right.plot(
            xs,
            [x * raw for x in xs],
            color="grey",
            linestyle=":",
            label=f"raw ceiling {raw:.0f}/s",
        )
    right.set_xscale("log")
    right.set_xlabel("seconds after the herd's nominal instant (log)")
    right.set_ylabel("runs existing (seen by the watcher)")
    right.set_title("Herd: all tasks on one instant")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)
    s = measured["settings"]
    fig.suptitle(
        f"kron vs CronJob, {s['tasks']} tasks steady, herd {s['herd']}; {s['date']}; "
        f"{s['machine']['cores']} cores shared by the whole control plane",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _label(name: str, res: dict[str, Any]) -> str:
    nice = {
        "kron_steady": "kron",
        "kron_herd": "kron",
    }
    if name in nice:
        return nice[name]
    if "qps" in name:
        return f"CronJob (KCM {name.rsplit('qps', 1)[1]} QPS)"
    return name


def summary_table(doc: dict[str, Any]) -> str:
    systems = [("kron", doc["kron"])] + [
        (f"CronJob, KCM {v['kcm_qps']} QPS", v)
        for k, v in doc.items()
        if k.startswith("cronjob") and isinstance(v, dict)
    ]
    head = "| | " + " | ".join(name for name, _ in systems) + " |"
    rule = "|---|" + "---|" * len(systems)
    rows = [head, rule]
    for key, unit in (
        ("lag_p50_s", " s"),
        ("lag_p99_s", " s"),
        ("lag_max_s", " s"),
        ("duplicates", ""),
        ("missed", ""),
        ("herd_size", ""),
        ("herd_drain_s", " s"),
        ("rss_mb", " MB"),
        ("cpu_s", " s"),
    ):
        rows.append(f"| {key} | " + " | ".join(fmt(v.get(key), unit) for _, v in systems) + " |")
    return "\n".join(rows)


ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "performance.md"
LATEST = ROOT / ".bench" / "latest.json"
PAGE_START = "<!-- bench:start -->"
PAGE_END = "<!-- bench:end -->"


def page_block(doc: dict[str, Any]) -> str:
    """The performance page's results: when, where, how, then the table and the goals."""
    s = doc["settings"]
    machine = s.get("machine", {})
    where = (
        ", ".join(f"{k} {v}" for k, v in machine.items()) if isinstance(machine, dict) else machine
    )
    lines = [
        f"Measured {s.get('date', '?')} at commit `{s.get('commit', '?')}` with "
        f"`{s.get('command', 'make bench')}` ({s.get('profile', '?')} profile, "
        f"{doc['tasks']} tasks, kron QPS {s.get('kron_qps')}/burst {s.get('kron_burst')}, "
        f"{s.get('elapsed_s', '?')} s in all) on {where}. "
        f"Raw Job creates through the same client: {fmt(doc['raw_create_per_s'])}/s.",
        "",
        summary_table(doc),
        "",
        "| goal | measured | met |",
        "|---|---|---|",
    ]
    for name, goal in doc.get("goals", {}).items():
        shown = {k: v for k, v in goal.items() if k not in ("met", "note")}
        value = ", ".join(f"{k} {fmt(v)}" for k, v in shown.items())
        met = {True: "yes", False: "no", None: "n/a"}[goal.get("met")]
        lines.append(f"| {name} | {value} | {met} |")
    for extra in (
        cost_table(doc),
        cpu_table(doc),
        noisy_table(doc.get("noisy_neighbour") or {}),
        scale_table(doc.get("scale") or {}),
        shards_table(doc.get("shards") or {}),
    ):
        if extra:
            lines += ["", *extra]
    return "\n".join(lines)


NOISY_ROWS = (
    ("B's p50 fire lag alone", "b_alone_p50_s", " s"),
    ("B's p99 fire lag alone", "b_alone_p99_s", " s"),
    ("B's p50 fire lag beside A's herd", "b_herd_p50_s", " s"),
    ("B's p99 fire lag beside A's herd", "b_herd_p99_s", " s"),
    ("p99 ratio, herd / alone", "p99_ratio", ""),
    ("A's runs created before B's last", "a_runs_before_b_last", ""),
    ("A's herd drained after", "a_herd_drain_s", " s"),
)


def noisy_table(section: dict[str, Any]) -> list[str]:
    """The noisy-neighbour results (performance page): B's lag alone and beside A's herd."""
    systems = [("kron", section["kron"])] if "kron" in section else []
    systems += [
        (f"CronJob, KCM {v['kcm_qps']} QPS", v)
        for k, v in section.items()
        if k.startswith("cronjob") and isinstance(v, dict)
    ]
    if not systems:
        return []
    size = systems[0][1].get("herd_namespace_objects", "?")
    small = systems[0][1].get("small_namespace_objects", "?")
    lines = [
        f"Noisy neighbour: namespace A with {size} objects due on one instant, namespace B "
        f"with {small} due on the same instant and, alone, on one before it.",
        "",
        "| | " + " | ".join(name for name, _ in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for title, key, unit in NOISY_ROWS:
        values = " | ".join(fmt(v.get(key), unit) for _, v in systems)
        lines.append(f"| {title} | {values} |")
    stamps = []
    for _, v in systems:
        m = v.get("measured") or {}
        stamps.append(f"{m.get('date', '?')}, `{m.get('commit', '?')}`, `{m.get('command', '?')}`")
    lines.append("| measured (date, commit, command) | " + " | ".join(stamps) + " |")
    return lines


def render_page(text: str, doc: dict[str, Any]) -> str | None:
    """``text`` with the block between the markers rendered from ``doc``; None without them."""
    start, end = text.find(PAGE_START), text.find(PAGE_END)
    if start < 0 or end < start:
        return None
    body = f"{PAGE_START}\n{page_block(doc)}\n{PAGE_END}"
    return text[:start] + body + text[end + len(PAGE_END) :]


def update_page(page: Path, doc: dict[str, Any]) -> bool:
    """Replace the block between the markers; False when the page has none."""
    text = render_page(page.read_text(encoding="utf-8"), doc)
    if text is None:
        return False
    page.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    """`--write` or `--check` the performance page against `.bench/latest.json`."""
    if argv not in (["--write"], ["--check"]):
        print(__doc__)
        return 2
    doc = json.loads(LATEST.read_text(encoding="utf-8"))
    current = PAGE.read_text(encoding="utf-8")
    fresh = render_page(current, doc)
    if fresh is None:
        print(f"{PAGE}: no {PAGE_START} ... {PAGE_END} block", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        if fresh != current:
            print(
                f"{PAGE}: the bench tables differ from {LATEST.relative_to(ROOT)}; run "
                "`PYTHONPATH=hack python -m bench.report --write`",
                file=sys.stderr,
            )
            return 1
        return 0
    if fresh != current:
        PAGE.write_text(fresh, encoding="utf-8")
        print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
