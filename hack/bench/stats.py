"""From the watcher's rows to lag, duplicate and missed numbers (pure)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Seen:
    """One ADDED event: when the watcher saw it and what it was for."""

    seen: float
    name: str
    phase: str
    nominal: float | None
    task: str


def parse_time(text: str) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_rows(path: Path, phase: str | None = None) -> list[Seen]:
    rows: list[Seen] = []
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        parts = line.split(",")
        if len(parts) != 5 or parts[1] == "!gap":
            continue
        if phase is not None and parts[2] != phase:
            continue
        rows.append(Seen(float(parts[0]), parts[1], parts[2], parse_time(parts[3]), parts[4]))
    return rows


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in [0, 100]); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(slots=True)
class LagReport:
    expected: int = 0
    fired: int = 0
    duplicates: int = 0
    missed: int = 0
    late_or_extra: int = 0
    """Runs seen whose (task, nominal) was not an expected tick of the window."""
    lags: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        return {
            "lag_p50_s": round(percentile(self.lags, 50), 4),
            "lag_p99_s": round(percentile(self.lags, 99), 4),
            "lag_max_s": round(max(self.lags), 4) if self.lags else math.nan,
            "expected": self.expected,
            "fired": self.fired,
            "duplicates": self.duplicates,
            "missed": self.missed,
        }


def lag_report(rows: Iterable[Seen], expected: set[tuple[str, int]]) -> LagReport:
    """Lag of the first run of each expected tick; a tick run twice is a duplicate,
    a tick never run is missed. Rows for other ticks are ignored (counted)."""
    first: dict[tuple[str, int], float] = {}
    runs: Counter[tuple[str, int]] = Counter()
    report = LagReport(expected=len(expected))
    for row in rows:
        if row.nominal is None:
            continue
        key = (row.task, round(row.nominal))
        if key not in expected:
            report.late_or_extra += 1
            continue
        runs[key] += 1
        if key not in first or row.seen < first[key]:
            first[key] = row.seen
    report.fired = len(first)
    report.duplicates = sum(n - 1 for n in runs.values() if n > 1)
    report.missed = len(expected) - len(first)
    report.lags = [seen - nominal for (_task, nominal), seen in first.items()]
    return report


def drain_curve(rows: Iterable[Seen], instant: float) -> list[float]:
    """Seconds after `instant` at which each run of a herd was seen, sorted."""
    return sorted(row.seen - instant for row in rows)
