"""The performance page's tables are written from `.bench/latest.json`, never by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bench.report
from bench.report import PAGE_END, PAGE_START, build, main, update_page, write_json


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
    page = tmp_path / "performance.md"
    page.write_text(f"# kron\n\n{PAGE_START}\nold numbers\n{PAGE_END}\n\nafter\n")
    doc = build(measured())
    assert update_page(page, doc)
    text = page.read_text()
    assert "old numbers" not in text
    assert text.startswith("# kron\n\n") and text.endswith(f"{PAGE_END}\n\nafter\n")
    assert "Measured 2026-11-23T10:00:00Z at commit `abc1234` with `make bench`" in text
    assert "| lag_p99_s |" in text and "| herd_ge_90pct_raw |" in text
    once = text
    assert update_page(page, doc)
    assert page.read_text() == once  # idempotent


def test_a_page_without_markers_is_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text("# kron\n")
    assert not update_page(page, build(measured()))
    assert page.read_text() == "# kron\n"


def noisy(ratio_herd_p99: float) -> dict[str, Any]:
    return {
        "herd_namespace_objects": 2000,
        "small_namespace_objects": 20,
        "b_alone_p50_s": 0.05,
        "b_alone_p99_s": 0.1,
        "b_herd_p50_s": 0.08,
        "b_herd_p99_s": ratio_herd_p99,
        "p99_ratio": round(ratio_herd_p99 / 0.1, 2),
        "a_runs_before_b_last": 40,
        "b_lags_alone": [0.05] * 20,
        "b_lags_herd": [0.08] * 20,
    }


def test_the_noisy_neighbour_ratio_is_recorded_with_its_goal_and_on_the_page(
    tmp_path: Path,
) -> None:
    m = measured()
    m["results"]["noisy_kron"] = noisy(0.15)
    m["results"]["noisy_cron_qps20"] = {**noisy(90.0), "p99_ratio": 900.0}
    doc = build(m)
    assert doc["noisy_neighbour_p99_ratio"] == 1.5
    assert doc["goals"]["noisy_neighbour_p99_le_2x"] == {"ratio": 1.5, "met": True}
    assert doc["noisy_neighbour"]["cronjob_qps20"]["kcm_qps"] == 20
    page = tmp_path / "performance.md"
    page.write_text(f"{PAGE_START}\n{PAGE_END}\n")
    assert update_page(page, doc)
    text = page.read_text()
    assert "| B's p99 fire lag beside A's herd | 0.150 s | 90.0 s |" in text
    assert "| p99 ratio, herd / alone | 1.500 | 900.0 |" in text
    assert "| noisy_neighbour_p99_le_2x | ratio 1.500 | yes |" in text


def test_a_ratio_over_two_misses_the_goal() -> None:
    m = measured()
    m["results"]["noisy_kron"] = noisy(0.35)
    assert build(m)["goals"]["noisy_neighbour_p99_le_2x"]["met"] is False


def test_a_run_of_the_noisy_phases_only_keeps_the_other_sections_of_the_last_run(
    tmp_path: Path,
) -> None:
    full = measured()
    full["settings"]["phases"] = ["raw", "kron-steady", "kron-herd", "cron-steady"]
    out = tmp_path / "latest.json"
    before = write_json(out, full)
    assert before["noisy_neighbour_p99_ratio"] is not None  # NaN: not measured
    noisy_only = measured()
    noisy_only["results"] = {"noisy_kron": noisy(0.12)}
    noisy_only["settings"] |= {"phases": ["noisy-kron"], "date": "2026-11-24T09:00:00Z"}
    after = write_json(out, noisy_only, json.loads(out.read_text()))
    stored = json.loads(out.read_text())
    assert stored["kron"]["lag_p99_s"] == 0.3  # from the full run
    assert stored["settings"]["date"] == "2026-11-23T10:00:00Z"
    assert stored["noisy_neighbour"]["kron"]["measured"]["date"] == "2026-11-24T09:00:00Z"
    assert stored["noisy_neighbour_p99_ratio"] == 1.2
    assert "b_lags_herd" not in stored["noisy_neighbour"]["kron"]  # samples go elsewhere
    assert after["goals"]["steady_p99_le_100ms"]["met"] is False
    # And a later run without the noisy phases keeps the noisy section.
    again = write_json(out, full, json.loads(out.read_text()))
    assert again["noisy_neighbour"]["kron"]["measured"]["date"] == "2026-11-24T09:00:00Z"


def test_a_run_of_one_noisy_system_keeps_the_others_measurement(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    first = measured()
    first["results"] = {"noisy_kron": noisy(0.3), "noisy_cron_qps20": noisy(90.0)}
    first["settings"]["phases"] = ["noisy-kron", "noisy-cron"]
    write_json(out, first)
    second = measured()
    second["results"] = {"noisy_kron": noisy(0.15)}
    second["settings"] |= {"phases": ["noisy-kron"], "date": "2026-11-25T08:00:00Z"}
    doc = write_json(out, second, json.loads(out.read_text()))
    assert doc["noisy_neighbour_p99_ratio"] == 1.5
    assert doc["noisy_neighbour"]["kron"]["measured"]["date"] == "2026-11-25T08:00:00Z"
    cron = doc["noisy_neighbour"]["cronjob_qps20"]
    assert cron["b_herd_p99_s"] == 90.0
    assert cron["measured"]["date"] == "2026-11-23T10:00:00Z"


def test_the_committed_page_shows_what_the_committed_json_holds() -> None:
    assert main(["--check"]) == 0, "run `PYTHONPATH=hack python -m bench.report --write`"


def test_check_fails_on_a_hand_edited_figure_and_write_repairs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "performance.md"
    page.write_text(bench.report.PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(bench.report, "PAGE", page)
    assert main(["--check"]) == 0
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("| duplicates | 0 |", "| duplicates | 1 |", 1), encoding="utf-8")
    assert main(["--check"]) == 1
    assert main(["--write"]) == 0
    assert page.read_text(encoding="utf-8") == text
