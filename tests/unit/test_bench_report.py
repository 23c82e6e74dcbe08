"""The README's performance table is written from `.bench/latest.json`, never by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import README_END, README_START, build, update_readme


def measured() -> dict[str, Any]:
    steady = {"lag_p50_s": 0.1, "lag_p99_s": 0.3, "lag_max_s": 0.4, "rss_mb": 99.0}
    return {
        "results": {
            "raw": {"raw_create_per_s": 400.0},
            "kron_steady": steady,
            "kron_herd": {"herd_runs_seen": 10, "herd_rate_per_s": 380.0},
            "cron_steady_qps20": {"lag_p50_s": 50.0, "lag_p99_s": 60.0, "lag_max_s": 61.0},
        },
        "settings": {
            "tasks": 3,
            "kcm_qps_runs": [{"qps": 20, "burst": 30}],
            "date": "2026-11-23T10:00:00Z",
            "commit": "abc1234",
            "command": "make bench",
            "profile": "quick",
            "machine": {"cores": 2},
            "kron_qps": 200,
            "kron_burst": 400,
        },
    }


def test_the_table_replaces_only_what_is_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# kron\n\n{README_START}\nold numbers\n{README_END}\n\nafter\n")
    doc = build(measured())
    assert update_readme(readme, doc)
    text = readme.read_text()
    assert "old numbers" not in text
    assert text.startswith("# kron\n\n") and text.endswith(f"{README_END}\n\nafter\n")
    assert "Measured 2026-11-23T10:00:00Z at commit `abc1234` with `make bench`" in text
    assert "| lag_p99_s |" in text and "| herd_ge_90pct_raw |" in text
    once = text
    assert update_readme(readme, doc)
    assert readme.read_text() == once  # idempotent


def test_a_readme_without_markers_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# kron\n")
    assert not update_readme(readme, build(measured()))
    assert readme.read_text() == "# kron\n"
