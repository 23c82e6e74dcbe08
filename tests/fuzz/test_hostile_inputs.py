"""Hostile tasks and runs through the engine's own code path (a moderate number here;
`make fuzz` runs 10,000 and writes the totals to .bench/fuzz.json and docs/tenancy/security.md).

For every case: nothing escapes the engine, nothing is caught as an internal error
(kron's own bug), the task's status stays under MAX_STATUS_BYTES, and a well-behaved
task of another namespace, planned by the same engine, fires both of its ticks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from hostile.harness import Case, cases, run_case
from kron.api.constants import MAX_STATUS_BYTES
from kron.app import allow_deep_objects

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    allow_deep_objects()  # what `kron run` does before it reads anything
    new = asyncio.new_event_loop()
    yield new
    new.close()


def test_hostile_cases_never_crash_never_leak_and_stay_bounded(
    loop: asyncio.AbstractEventLoop,
) -> None:
    @SETTINGS
    @given(cases())
    def check(case: Case) -> None:
        outcome = run_case(case, loop)
        assert outcome.verdict in ("planned", "reported"), outcome.detail
        assert outcome.status_bytes <= MAX_STATUS_BYTES
        assert outcome.neighbour_fired, "the other namespace's task missed a tick"

    check()
