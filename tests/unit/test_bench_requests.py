"""Requests per fire from the API server's own counters (hack/bench/requests.py)."""

from __future__ import annotations

from collections import Counter

from bench.requests import parse, per_fire

SERIES = (
    ('code="201",dry_run="",resource="jobs",subresource="",verb="POST"', 100),
    ('code="409",dry_run="",resource="jobs",subresource="",verb="POST"', 3),
    ('code="201",dry_run="All",resource="jobs",subresource="",verb="POST"', 50),
    ('code="200",dry_run="",resource="scheduledtasks",subresource="status",verb="PATCH"', 40),
    ('code="200",dry_run="",resource="jobs",subresource="",verb="LIST"', 7),
    ('code="200",dry_run="",resource="pods",subresource="status",verb="PATCH"', 9),
)
METRICS = "\n".join(
    [
        "# HELP apiserver_request_total [STABLE] Counter of apiserver requests",
        *(
            f'apiserver_request_total{{component="apiserver",{s},version="v1"}} {n}'
            for s, n in SERIES
        ),
        'apiserver_current_inflight_requests{request_kind="mutating"} 1',
    ]
)


def test_counters_are_summed_by_verb_and_resource_without_dry_runs() -> None:
    assert parse(METRICS) == Counter(
        {
            "POST jobs": 103,
            "PATCH scheduledtasks/status": 40,
            "LIST jobs": 7,
            "PATCH pods/status": 9,
        }
    )


def test_per_fire_counts_the_create_and_the_owner_writes_between_two_readings() -> None:
    before = Counter({"POST jobs": 100, "PATCH scheduledtasks/status": 40})
    after = Counter(
        {
            "POST jobs": 300,
            "PATCH scheduledtasks/status": 130,
            "PATCH pods/status": 400,
            "DELETE jobs": 200,
            "LIST jobs": 5,
            "GET scheduledtasks": 2,
        }
    )
    got = per_fire(before, after, "scheduledtasks")
    assert got["runs_created"] == 200
    assert got["requests_per_fire"] == 1.45  # (200 creates + 90 status) / 200
    assert got["requests_per_fire_by_verb"] == {
        "DELETE jobs": 1.0,
        "GET scheduledtasks": 0.01,
        "PATCH pods/status": 2.0,
        "PATCH scheduledtasks/status": 0.45,
        "POST jobs": 1.0,
    }
    assert got["run_writes_per_fire"] == 3.0
    assert per_fire(before, before, "cronjobs") == {"runs_created": 0}
