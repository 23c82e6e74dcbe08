"""Gathered status writes: progress waits its interval, and while a run of the task
is still going, for that run's end (up to HOLD_FACTOR intervals), so a run's start
and end cost one write; what must be seen at once is never held.

Real pool, real executor and status writer, the loop's own clock; the fake API
stands in only for the wire, as in test_status_writes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kron.api import RunKind, ScheduledTaskStatus
from kron.engine.executor import Executor
from kron.engine.index import TaskEntry
from kron.engine.statuswriter import HOLD_FACTOR
from kron.planner import ObservedRun, RunPhase
from support.status_api import Server, status_setup
from support.wait import async_wait_until

INTERVAL = 0.5
HOLD = INTERVAL * HOLD_FACTOR


@pytest.fixture
async def gathered() -> AsyncIterator[tuple[Server, TaskEntry, Executor]]:
    server = Server()
    for _ in range(10):
        server.gate.release()  # writes go through at once
    async with status_setup(server, clock=time.monotonic, status_interval=INTERVAL) as made:
        yield made


def progress(entry: TaskEntry, executor: Executor, fired: int, *, at_once: bool = False) -> None:
    entry.status = ScheduledTaskStatus(last_schedule_time=datetime.fromtimestamp(fired, UTC))
    entry.version += 1
    executor.status_dirty(entry, at_once=at_once)


def start_run(entry: TaskEntry) -> None:
    entry.runs["t-1"] = ObservedRun(name="t-1", kind=RunKind.JOB, nominal=1)


async def test_a_run_that_ends_within_the_hold_costs_one_write_for_start_and_end(
    gathered: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = gathered
    start_run(entry)
    progress(entry, executor, 1_000)  # the run was created
    since = entry.status_since
    # At the interval the run is still going: the write is held for its end.
    await async_wait_until(
        lambda: entry.status_due >= since + HOLD - 0.01, timeout=5, message="write held"
    )
    assert server.patches == []
    entry.runs["t-1"] = replace(entry.runs["t-1"], phase=RunPhase.SUCCEEDED)
    progress(entry, executor, 1_000)  # the run ended
    await async_wait_until(lambda: server.patches, timeout=5, message="one write")
    assert time.monotonic() < since + HOLD  # brought forward by the end, not the hold
    assert [p["lastScheduleTime"] for p in server.patches] == ["1970-01-01T00:16:40Z"]
    assert not entry.status_queued


async def test_a_run_that_keeps_going_is_written_after_the_hold(
    gathered: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = gathered
    start_run(entry)
    progress(entry, executor, 1_000)
    since = entry.status_since
    await async_wait_until(lambda: server.patches, timeout=HOLD + 5, message="written")
    assert time.monotonic() >= since + HOLD - 0.01
    assert entry.runs["t-1"].phase is RunPhase.ACTIVE


async def test_a_change_that_must_be_seen_at_once_is_not_held_by_a_running_run(
    gathered: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = gathered
    start_run(entry)
    progress(entry, executor, 1_000)
    since = entry.status_since
    progress(entry, executor, 2_000, at_once=True)  # say, Degraded turned True
    await async_wait_until(lambda: server.patches, timeout=5, message="written at once")
    assert time.monotonic() < since + INTERVAL
    assert [p["lastScheduleTime"] for p in server.patches] == ["1970-01-01T00:33:20Z"]


async def test_progress_without_runs_waits_only_the_interval(
    gathered: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = gathered
    progress(entry, executor, 1_000)
    since = entry.status_since
    await async_wait_until(lambda: server.patches, timeout=5, message="written")
    now = time.monotonic()
    assert since + INTERVAL - 0.01 <= now < since + HOLD
