"""`kron history` and `kron status` output, from status models (no cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from kron.api import ScheduledTaskStatus
from kron.cli.render import history_lines, status_lines
from kron.cli.timefmt import format_duration
from kron.schedule import load_zone

BERLIN = load_zone("Europe/Berlin")

STATUS: dict[str, Any] = {
    "observedGeneration": 2,
    "conditions": [
        {
            "type": "Ready",
            "status": "False",
            "reason": "TooManyFailures",
            "message": "3 consecutive failures\n(suspendAfterFailures=3)",
        },
        {"type": "Degraded", "status": "True", "reason": "RunFailed", "message": ""},
    ],
    "nextScheduleTime": "2026-01-03T02:00:00Z",
    "lastScheduleTime": "2026-01-02T02:00:00Z",
    "active": [
        {"name": "nightly-1767319200", "kind": "Job", "scheduledTime": "2026-01-02T02:00:00Z"}
    ],
    "consecutiveFailures": 3,
    "history": [
        {
            "scheduledTime": "2026-01-02T02:00:00Z",
            "name": "nightly-1767319200-r1",
            "attempt": 1,
            "trigger": "retry",
            "result": "Failed",
            "startTime": "2026-01-02T02:00:10Z",
            "completionTime": "2026-01-02T02:03:22Z",
            "message": "BackoffLimitExceeded",
        },
        {
            "scheduledTime": "2026-01-01T02:00:00Z",
            "trigger": "schedule",
            "result": "Skipped",
            "message": "Forbid: run nightly-1767232800 still active",
        },
    ],
    "counts": {"fired": 12, "succeeded": 9, "failed": 3, "retried": 1, "skipped": 1},
}


def test_history_table_newest_first_in_the_task_zone() -> None:
    lines = history_lines(ScheduledTaskStatus.from_api(STATUS), BERLIN)
    assert lines[0].split() == [
        "SCHEDULED",
        "RESULT",
        "RUN",
        "ATTEMPT",
        "TRIGGER",
        "DURATION",
        "MESSAGE",
    ]
    assert lines[1].split() == [
        "2026-01-02T03:00:00+01:00",
        "Failed",
        "nightly-1767319200-r1",
        "1",
        "retry",
        "3m12s",
        "BackoffLimitExceeded",
    ]
    assert lines[2].split(maxsplit=6) == [
        "2026-01-01T03:00:00+01:00",
        "Skipped",
        "-",
        "0",
        "schedule",
        "-",
        "Forbid: run nightly-1767232800 still active",
    ]
    assert lines[3] == (
        "counts: fired 12, succeeded 9, failed 3, retried 1, missed 0, skipped 1, excluded 0"
    )
    assert len(lines) == 4


def test_history_columns_line_up() -> None:
    lines = history_lines(ScheduledTaskStatus.from_api(STATUS), BERLIN)[:3]
    starts = {
        line.index(word) for line, word in zip(lines, ["RESULT", "Failed", "Skipped"], strict=True)
    }
    assert len(starts) == 1


def test_history_without_entries_or_status() -> None:
    assert history_lines(ScheduledTaskStatus.from_api({}), BERLIN) == [
        "no runs or ticks recorded yet",
        "counts: fired 0, succeeded 0, failed 0, retried 0, missed 0, skipped 0, excluded 0",
    ]
    assert "not reported" in history_lines(None, BERLIN)[0]


def test_status_summary() -> None:
    spec = {"schedule": "0 3 * * *", "timeZone": "Europe/Berlin"}
    text = "\n".join(status_lines("nightly", spec, 3, ScheduledTaskStatus.from_api(STATUS), BERLIN))
    assert "schedule: 0 3 * * * (Europe/Berlin)" in text
    assert "suspend:  false" in text
    assert "status is for generation 2, the spec is at 3" in text
    ready = next(line for line in text.splitlines() if line.startswith("Ready"))
    assert ready.split(maxsplit=3) == [
        "Ready",
        "False",
        "TooManyFailures",
        "3 consecutive failures (suspendAfterFailures=3)",
    ]
    assert "next:     2026-01-03T03:00:00+01:00" in text
    assert "active:   nightly-1767319200" in text
    assert "consecutive failures: 3" in text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (192, "3m12s"),
        (7200, "2h"),
        (7260, "2h1m"),
        (90061, "1d1h"),
    ],
)
def test_durations_read_like_kubectl(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
