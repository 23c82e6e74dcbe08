"""Benchmark of the pure schedule engine: next fire times for 100,000 tasks.

Not a test: it prints and records timings so regressions show up in review. Each
task gets one of a mix of expressions and zones and its own jitter seed (as the
operator does with task UIDs). Compiling timelines is timed separately from the
queries; the goal is under 20 us per task for ``next_tick`` amortised.

    make bench-core            # or: .venv/bin/python hack/bench_core.py [--tasks N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))

from kron.schedule import Timeline, compile_timeline  # noqa: E402
from kron.schedule import timeline as timeline_module  # noqa: E402
from kron.schedule.zones import zone_table  # noqa: E402

SCHEDULES: tuple[tuple[str, ...], ...] = (
    ("*/5 * * * *",),
    ("0 3 * * *",),
    ("30 2 * * *",),
    ("0 */2 * * 1-5",),
    ("15,45 9-17 * * MON-FRI",),
    ("0 0 1,15 * 1",),  # dom + dow: Vixie OR
    ("*/10 * * * * *",),  # 6 fields
    ("0 30 1 * * *",),
    ("@hourly",),
    ("@daily",),
    ("@weekly",),
    ("@monthly",),
    ("@every 90s",),
    ("@every 1h30m",),
    ("0 0 29 2 *",),  # leap day
    ("0 9 * * 1", "0 17 * * 5"),  # a union
    ("*/15 * * * *", "@every 7m"),
    ("0 12 * JAN,APR,JUL,OCT *",),
)
ZONES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Tokyo",
)
EXCLUSIONS: tuple[tuple[str, ...], ...] = ((), (), (), ("* * 25 12 *",), ("* 12-13 * * 0,6",))
# The month-dependent day forms (L, W, #), timed on their own so that the figure above
# stays comparable with earlier runs.
MONTHDAY_SCHEDULES: tuple[tuple[str, ...], ...] = (
    ("0 0 L * *",),
    ("30 2 L * *",),
    ("0 18 LW * *",),
    ("0 9 L-2 * *",),
    ("0 9 15W * *",),
    ("0 9 1W * *",),
    ("0 9 ? * TUE#2",),
    ("30 7 * * FRIL",),
    ("0 9 1,15,L * *",),
    ("0 8 * * MON#1,WED#3",),
    ("0 0 L * 5L",),  # dom + dow: Vixie OR
    ("*/15 9-17 LW * *",),
    ("0 12 * 2 MON#5",),  # only in some leap years
    ("0 9 * * 1-5", "0 17 LW * *"),  # a union
)


def build(count: int, schedules: tuple[tuple[str, ...], ...] = SCHEDULES) -> list[Timeline]:
    timelines = []
    for index in range(count):
        timelines.append(
            compile_timeline(
                schedules=schedules[index % len(schedules)],
                time_zone=ZONES[(index // len(schedules)) % len(ZONES)],
                exclude=EXCLUSIONS[index % len(EXCLUSIONS)],
                jitter_seconds=(0, 30, 300)[index % 3],
                jitter_seed=f"3f2a{index:08x}-uid",
            )
        )
    return timelines


# The costliest look-aheads we could construct: every tick excluded, so upcoming()
# walks until its step budget or its 100 years of excluded ticks run out.
LOOKAHEAD_WORST: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("0 9 * * 1-5",), ("* * * * 1-5",), "America/New_York"),  # a tick and a stretch a week
    (("0 0 1 1 *",), ("* * 1 1 *",), "America/New_York"),  # 100 years of zone tables
    (("0 0 L * *",), ("* * L * *",), "Australia/Lord_Howe"),
    (tuple(f"{m} 9 * * 1-5" for m in range(16)), ("* * * * 1-5",), "Europe/Berlin"),
    (("* * * * *",), tuple(f"* * * * {day}" for day in range(7)), "UTC"),  # taking turns
    (("* * * * * *",), ("0-58 * * * * *", "59 * * * * *"), "Europe/Berlin"),
    (("@every 1s",), ("* * 1-30 * 1-6", "* * 31 * 0"), "America/Santiago"),
)


def lookahead_worst(now: int) -> tuple[float, float]:
    """Slowest ``upcoming(now, 5)`` of LOOKAHEAD_WORST in ms: with empty zone tables
    (a freshly started operator), and again with them built."""
    cold = warm = 0.0
    for schedules, exclude, zone in LOOKAHEAD_WORST:
        zone_table.cache_clear()
        timeline_module._compile.cache_clear()
        timeline_module._zoned_cron.cache_clear()
        timeline = compile_timeline(schedules=schedules, exclude=exclude, time_zone=zone)
        for index in range(2):
            gc.collect()
            began = time.perf_counter()
            found = timeline.upcoming(now, 5)
            took = (time.perf_counter() - began) * 1000
            assert found == [], (schedules, exclude)
            if index == 0:
                cold = max(cold, took)
            else:
                warm = max(warm, took)
    print(f"{'upcoming, worst look-ahead':<28} {cold:8.1f} ms cold {warm:8.1f} ms warm")
    return cold, warm


MONTHDAY_DAYS = ("L * *", "LW * *", "L-3 * *", "15W * *", "? * TUE#2", "? * FRIL", "1,L * 1#1")


def build_distinct(count: int, *, monthdays: bool = False) -> list[Timeline]:
    """Tasks whose (expression, zone) pairs are all different: no task can reuse the
    answer another one with the same expression and zone just computed."""
    timelines = []
    for index in range(count):
        second, minute, hour = (index // 1440) % 60, index % 60, (index // 60) % 24
        days = MONTHDAY_DAYS[index % len(MONTHDAY_DAYS)] if monthdays else "* * *"
        timelines.append(
            compile_timeline(
                schedules=[f"{second} {minute} {hour} {days}"],
                time_zone=ZONES[index % len(ZONES)],
                jitter_seconds=30,
                jitter_seed=f"d{index:08x}-uid",
            )
        )
    return timelines


def memory_per_timeline(count: int, now: int) -> float:
    """Bytes each compiled timeline holds when every task has its own expression (a
    fleet of daily tasks, each on its own second), measured with tracemalloc from
    empty compile caches, after each timeline has answered one query."""
    timeline_module._compile.cache_clear()
    timeline_module._zoned_cron.cache_clear()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = build_distinct(count)
        for timeline in kept:
            timeline.next_tick(now)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    kept.clear()
    per_task = used / count
    print(f"{'memory, distinct':<28} {per_task:8.0f} B/timeline")
    return per_task


def timed(label: str, count: int, run: Callable[[], object], repeat: int = 1) -> float:
    """Best of ``repeat`` passes, in microseconds per task (the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    per_task = best / count * 1e6
    print(f"{label:<28} {best:8.3f} s  {per_task:8.2f} us/task  (best of {repeat})")
    return per_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="passes per query; best is kept")
    parser.add_argument("--now", default="2025-05-14T12:00:00+00:00", help="RFC 3339 instant")
    parser.add_argument("--output", type=Path, default=ROOT / ".bench" / "core.json")
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="rewrite the results between the bench-core markers in docs/performance.md",
    )
    args = parser.parse_args()
    now = int(dt.datetime.fromisoformat(args.now).timestamp())
    count = args.tasks

    timelines: list[Timeline] = []

    def compile_all() -> None:
        timelines.extend(build(count))

    compile_us = timed("compile_timeline", count, compile_all)
    # Warm the per-zone tables the way a running operator would have them.
    for timeline in timelines[: len(SCHEDULES) * len(ZONES)]:
        timeline.upcoming(now, 5)
    next_us = timed(
        "next_tick(now)", count, lambda: [t.next_tick(now) for t in timelines], args.repeat
    )
    upcoming_us = timed(
        "upcoming(now, 5)", count, lambda: [t.upcoming(now, 5) for t in timelines], args.repeat
    )
    timelines.clear()
    distinct = build_distinct(count)
    # One pass only: a second pass would find each task's own answer remembered.
    distinct_us = timed(
        "next_tick(now), distinct", count, lambda: [t.next_tick(now) for t in distinct]
    )
    distinct.clear()

    # The month-dependent forms last, so that everything above runs as it did before
    # they existed (the same objects alive, the same caches) and stays comparable.
    monthdays = build(count, MONTHDAY_SCHEDULES)
    for timeline in monthdays[: len(MONTHDAY_SCHEDULES) * len(ZONES)]:
        timeline.upcoming(now, 5)
    monthdays_us = timed(
        "next_tick(now), L/W/#", count, lambda: [t.next_tick(now) for t in monthdays], args.repeat
    )
    monthdays.clear()
    distinct = build_distinct(count, monthdays=True)
    distinct_monthdays_us = timed(
        "next_tick(now), distinct L/W/#", count, lambda: [t.next_tick(now) for t in distinct]
    )
    distinct.clear()
    worst_cold_ms, worst_warm_ms = lookahead_worst(now)
    bytes_per_timeline = memory_per_timeline(count, now)

    result = {
        "tasks": count,
        "next_tick_us_per_task": round(next_us, 2),
        "upcoming5_us_per_task": round(upcoming_us, 2),
        "next_tick_distinct_us_per_task": round(distinct_us, 2),
        "next_tick_monthdays_us_per_task": round(monthdays_us, 2),
        "next_tick_distinct_monthdays_us_per_task": round(distinct_monthdays_us, 2),
        "compile_us_per_task": round(compile_us, 2),
        "upcoming_worst_cold_ms": round(worst_cold_ms, 1),
        "upcoming_worst_warm_ms": round(worst_warm_ms, 1),
        "timeline_bytes_distinct": round(bytes_per_timeline),
        "repeat": args.repeat,
        "now": args.now,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),  # the machine may be shared
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    line = results_line(result)
    print(line)
    if args.update_docs:
        update_page(ROOT / "docs" / "performance.md", line)


def results_line(result: dict[str, object]) -> str:
    return (
        f"Measured {str(result['date'])[:10]} on {result['machine']}, {result['cpus']} CPUs"
        f" (load average {result['load_average']}), Python {result['python']},"
        f" {result['tasks']:,} tasks: `next_tick(now)` **{result['next_tick_us_per_task']} us**"
        f" per task (distinct expression and zone per task:"
        f" {result['next_tick_distinct_us_per_task']} us; the L/W/# forms:"
        f" {result['next_tick_monthdays_us_per_task']} us, distinct"
        f" {result['next_tick_distinct_monthdays_us_per_task']} us), `upcoming(now, 5)`"
        f" {result['upcoming5_us_per_task']} us, `compile_timeline`"
        f" {result['compile_us_per_task']} us; worst look-ahead (every tick excluded)"
        f" {result['upcoming_worst_cold_ms']} ms with empty zone tables,"
        f" {result['upcoming_worst_warm_ms']} ms with them built; a compiled timeline"
        f" holds {result.get('timeline_bytes_distinct', 0):,} bytes (distinct expressions)."
        " Goal: under 20 us for `next_tick`."
    )


def update_page(
    page: Path,
    line: str,
    start: str = "<!-- bench-core:start -->",
    end: str = "<!-- bench-core:end -->",
) -> None:
    """Put `line` between the markers `start` and `end` of `page` (the pure benchmarks'
    figures; `make bench` rewrites its own tables with bench.report)."""
    text = page.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{page}: no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    page.write_text(f"{head}{start}\n{line}\n{end}{tail}")
    print(f"updated {page}")


if __name__ == "__main__":
    main()
