"""Status writes: one per task at a time, the newest intent last.

The fake API stands in only for the wire (its answers are what the API server
returns for a merge patch); the pool, the executor and the index are the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kron.api import ScheduledTaskStatus
from kron.engine.executor import Executor
from kron.engine.index import TaskEntry
from kron.k8s.api import ApiError
from kron.k8s.patch import merge_patch
from support.engine import Clock, engine, task_object
from support.status_api import UID, Server, status_setup
from support.wait import async_wait_until


def intend(entry: TaskEntry, executor: Executor, next_schedule: int) -> None:
    entry.status = ScheduledTaskStatus(
        next_schedule_time=datetime.fromtimestamp(next_schedule, UTC)
    )
    entry.version += 1
    executor.status_dirty(entry)


async def settle(server: Server, patches: int) -> None:
    """Let the loop run until `patches` PATCHes were sent (and no more are coming)."""
    for _ in range(200):
        await asyncio.sleep(0)
    assert len(server.patches) == patches


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Server, TaskEntry, Executor]]:
    async with status_setup(Server(), clock=lambda: 0.0) as made:
        yield made


async def test_a_change_during_a_write_waits_for_it_and_then_wins(
    setup: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = setup
    intend(entry, executor, 1_000)
    await settle(server, 1)
    intend(entry, executor, 2_000)
    intend(entry, executor, 3_000)
    await settle(server, 1)  # the newer intent waits for the write on the wire
    server.gate.release()
    await settle(server, 2)
    server.gate.release()
    await settle(server, 2)
    assert server.max_in_flight == 1
    assert server.status["nextScheduleTime"] == "1970-01-01T00:50:00Z"
    assert merge_patch(entry.persisted, entry.intended_api()) == {}
    assert entry.written == entry.version == 3
    assert not entry.status_queued and not entry.status_writing


async def test_a_failed_write_is_retried_with_the_newest_intent(
    setup: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = setup
    server.fail_next = ApiError(503, "ServiceUnavailable", "etcd is slow")
    intend(entry, executor, 1_000)
    await settle(server, 1)
    intend(entry, executor, 2_000)
    server.gate.release()  # the first write fails with a conflict and backs off
    await asyncio.wait_for(server.arrived.get(), timeout=5)
    await asyncio.wait_for(server.arrived.get(), timeout=5)  # the retry
    server.gate.release()
    await settle(server, 2)
    assert entry.written == 2
    assert server.status["nextScheduleTime"] == "1970-01-01T00:33:20Z"
    assert server.max_in_flight == 1


async def test_each_write_is_conditional_on_the_version_it_was_computed_from(
    setup: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = setup
    entry.rv = 41
    intend(entry, executor, 1_000)
    await settle(server, 1)
    server.gate.release()
    await settle(server, 1)
    intend(entry, executor, 2_000)
    await settle(server, 2)
    server.gate.release()
    await settle(server, 2)
    # The second write carries the version the first one's answer showed.
    assert server.preconditions == ["41", "1"]


async def test_a_conflict_drops_the_intent_and_replans_from_the_server(
    setup: tuple[Server, TaskEntry, Executor],
) -> None:
    server, entry, executor = setup
    engine = executor._engine  # the stand-in above
    entry.rv = 7
    server.status = {"nextScheduleTime": "1970-01-01T00:00:05Z"}  # another writer's
    server.fail_next = ApiError(409, "Conflict", "the object has been modified")
    intend(entry, executor, 1_000)
    await settle(server, 1)
    server.gate.release()
    await async_wait_until(
        lambda: engine.woken == [UID],  # type: ignore[attr-defined]
        timeout=5,
        message="the task is woken to be planned again",
    )
    assert entry.intended_api() == {"nextScheduleTime": "1970-01-01T00:00:05Z"}
    assert len(server.patches) == 1  # not retried: the next plan writes afresh
    assert not entry.status_queued


async def test_stepping_down_waits_for_writes_already_due_not_only_those_it_brought_forward() -> (
    None
):
    """A leader stepping down (`Engine.flush`) waits for every write it owes: one
    queued to go now (a condition changed) used to be dropped with the pool, because
    only writes gathered for later counted as waiting."""
    built = engine(Clock())
    built.observe_task("ADDED", task_object("alpha", "team-a", "uid-a"))
    entry = built.tasks["uid-a"]
    built.executor.status_dirty(entry, at_once=True)  # due now: in the pool, not sent
    flushing = asyncio.create_task(built.flush())
    done, _ = await asyncio.wait({flushing}, timeout=0.3)
    assert not done, "flush returned with a write still queued"
    entry.status_queued = False  # what the write's job does once it is through
    await asyncio.wait_for(flushing, timeout=5)
