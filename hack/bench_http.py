"""Benchmark of the operator's HTTP endpoints under attack: does the event loop stay free?

Not a test: it prints and records figures so a regression shows up in review. The
operator's server (kron.http.start_http) runs in this process with a registry holding
per-task metrics for --tasks tasks, next to a heartbeat coroutine that wakes every 5 ms
and records how late it woke: that lateness is what a Lease renewal or a due run would
wait. A second process (this script with --attack) then hammers the port for --seconds:
--scrapers clients scraping /metrics back to back, --garbage clients sending malformed
requests, --slow clients holding half-sent requests open (slowloris); a third process
asks /healthz every 100 ms as the kubelet would, and times the answers. Printed: the
loop's lateness idle and under attack, how many renders the scrapes cost, what the
clients got, and how many log records (and traceback lines) the attack produced.

    make bench-http            # or: .venv/bin/python hack/bench_http.py [--tasks N] ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))

import aiohttp  # noqa: E402

from kron.http import start_http  # noqa: E402
from kron.metrics import Metrics  # noqa: E402

HEARTBEAT = 0.005


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(at(0.50) * 1000, 2),
        "p99_ms": round(at(0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


# -- the attacker (a separate process, so its own work does not load the measured loop) --


def malformed(rng: random.Random) -> bytes:
    """One of the kinds of bad HTTP a port open to a network gets."""
    kind = rng.randrange(5)
    if kind == 0:  # random bytes (a TLS hello, a port scanner)
        return rng.randbytes(rng.randint(1, 4096)) + b"\r\n\r\n"
    if kind == 1:  # a request line with garbage in the target
        return b"GET /" + rng.randbytes(rng.randint(1, 200)) + b" HTTP/1.1\r\n\r\n"
    if kind == 2:  # one header line longer than any server allows
        return b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    if kind == 3:  # more header lines than any server allows
        return b"GET /metrics HTTP/1.1\r\n" + b"X-h: v\r\n" * 1000 + b"\r\n"
    # a good request, then a bad one on the same connection
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBAD\x00LINE\r\n\r\n"


async def attack(
    port: int, seconds: float, scrapers: int, garbage: int, slow: int, probe: bool
) -> None:
    until = time.monotonic() + seconds
    statuses: Counter[str] = Counter()
    scrape_bytes: list[int] = []
    probe_latency: list[float] = []
    base = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=30)

    async def scraper() -> None:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.monotonic() < until:
                try:
                    async with session.get(base + "/metrics") as response:
                        body = await response.read()
                        statuses[f"metrics {response.status}"] += 1
                        if response.status == 200:
                            scrape_bytes.append(len(body))
                except (aiohttp.ClientError, TimeoutError) as err:
                    statuses[f"metrics {type(err).__name__}"] += 1

    async def garbler(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < until:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(malformed(rng))
                await writer.drain()
                await asyncio.wait_for(reader.read(), timeout=10)
                writer.close()
                statuses["garbage sent"] += 1
            except (OSError, TimeoutError):
                statuses["garbage error"] += 1

    async def slowloris() -> None:
        while time.monotonic() < until:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                while time.monotonic() < until and not reader.at_eof():
                    writer.write(b"X-a: b\r\n")
                    await writer.drain()
                    try:
                        await asyncio.wait_for(reader.read(1), timeout=1)
                    except TimeoutError:
                        continue
                statuses["slow closed by server" if reader.at_eof() else "slow held"] += 1
                writer.close()
            except OSError:
                statuses["slow error"] += 1

    async def prober() -> None:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.monotonic() < until:
                started = time.monotonic()
                try:
                    async with session.get(base + "/healthz") as response:
                        await response.read()
                        statuses[f"healthz {response.status}"] += 1
                    probe_latency.append(time.monotonic() - started)
                except (aiohttp.ClientError, TimeoutError) as err:
                    statuses[f"healthz {type(err).__name__}"] += 1
                await asyncio.sleep(0.1)

    await asyncio.gather(
        *(scraper() for _ in range(scrapers)),
        *(garbler(i) for i in range(garbage)),
        *(slowloris() for _ in range(slow)),
        *([prober()] if probe else []),
    )
    print(
        json.dumps(
            {
                "client_statuses": dict(sorted(statuses.items())),
                "scrape_bytes": max(scrape_bytes, default=0),
                "probe_latency": percentiles(probe_latency),
            }
        )
    )


# -- the measured side --------------------------------------------------------------------


class Records(logging.Handler):
    """Counts what the server logs, and how many lines it would print."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0
        self.tracebacks = 0
        self.lines = 0
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.tracebacks += record.exc_info is not None
        self.lines += self.format(record).count("\n") + 1


async def measure_lag(seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    lags = []
    until = loop.time() + seconds
    while loop.time() < until:
        started = loop.time()
        await asyncio.sleep(HEARTBEAT)
        lags.append(loop.time() - started - HEARTBEAT)
    return lags


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    metrics = Metrics(per_task=True)
    now = time.time()
    for i in range(args.tasks):
        metrics.fired(f"team-{i % 200}", f"task-{i}", "schedule", 0.01, now)
    renders = 0
    collect = metrics.registry.collect

    def counted_collect() -> Any:
        nonlocal renders
        renders += 1
        return collect()

    metrics.registry.collect = counted_collect  # type: ignore[method-assign]
    records = Records()
    logging.getLogger().addHandler(records)
    logging.getLogger().setLevel(logging.INFO)
    server = await start_http(0, metrics, lambda: (True, ""), lambda: (True, ""), host="127.0.0.1")
    try:
        idle = await measure_lag(args.idle_seconds)
        command = [sys.executable, __file__, "--attack", str(server.port)]
        command += ["--seconds", str(args.seconds)]
        attacker = await asyncio.create_subprocess_exec(
            *command,
            *("--scrapers", str(args.scrapers), "--garbage", str(args.garbage)),
            *("--slow", str(args.slow)),
            stdout=subprocess.PIPE,
        )
        prober = await asyncio.create_subprocess_exec(
            *command,
            *("--scrapers", "0", "--garbage", "0", "--slow", "0", "--probe"),
            stdout=subprocess.PIPE,
        )
        lag_task = asyncio.create_task(measure_lag(args.seconds))
        (out, _), (probe_out, _) = await asyncio.gather(
            attacker.communicate(), prober.communicate()
        )
        under_attack = await lag_task
    finally:
        await server.stop()
        logging.getLogger().removeHandler(records)
    client = json.loads(out.decode().strip().splitlines()[-1])
    probed = json.loads(probe_out.decode().strip().splitlines()[-1])
    client["client_statuses"].update(probed["client_statuses"])
    client["probe_latency"] = probed["probe_latency"]
    return {
        "tasks": args.tasks,
        "seconds": args.seconds,
        "attackers": {"scrapers": args.scrapers, "garbage": args.garbage, "slow": args.slow},
        "loop_lateness_idle": percentiles(idle),
        "loop_lateness_under_attack": percentiles(under_attack),
        "renders": renders,
        **client,
        "log_records": records.records,
        "log_tracebacks": records.tracebacks,
        "log_lines": records.lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks with per-task series")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the attack")
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    parser.add_argument("--scrapers", type=int, default=20)
    parser.add_argument("--garbage", type=int, default=10)
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--attack", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=ROOT / ".bench" / "http.json")
    args = parser.parse_args()
    if args.attack:
        asyncio.run(
            attack(args.attack, args.seconds, args.scrapers, args.garbage, args.slow, args.probe)
        )
        return
    result = asyncio.run(measure(args))
    result["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip(),
    }
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
