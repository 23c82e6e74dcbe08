"""The work pool: lanes in priority order, coalescing by key, a token bucket."""

from __future__ import annotations

import asyncio

from kron.engine.pool import Lane, TokenBucket, WorkPool


async def _drain(pool: WorkPool, until: asyncio.Event) -> None:
    runner = asyncio.create_task(pool.run())
    try:
        await asyncio.wait_for(until.wait(), timeout=5)
    finally:
        runner.cancel()


async def test_creates_run_before_status_and_events_queued_earlier() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    done = asyncio.Event()

    def job(name: str, last: bool = False):  # type: ignore[no-untyped-def]
        async def run() -> None:
            order.append(name)
            if last:
                done.set()

        return run

    pool.submit(Lane.EVENT, job("event", last=True))
    pool.submit(Lane.STATUS, job("status"))
    pool.submit(Lane.CREATE, job("create"))
    pool.submit(Lane.CLEANUP, job("cleanup"))
    await _drain(pool, done)
    assert order == ["create", "status", "cleanup", "event"]


async def test_jobs_with_the_same_key_are_coalesced_while_queued() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    calls: list[int] = []
    done = asyncio.Event()

    async def write() -> None:
        calls.append(1)
        done.set()

    for _ in range(5):
        pool.submit(Lane.STATUS, write, key="task-a")
    assert pool.depth(Lane.STATUS) == 1
    await _drain(pool, done)
    assert calls == [1]


async def test_a_failing_job_does_not_stop_the_worker() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    done = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("bug")

    async def fine() -> None:
        done.set()

    pool.submit(Lane.CREATE, broken)
    pool.submit(Lane.CREATE, fine)
    await _drain(pool, done)
    assert done.is_set()


async def test_token_bucket_allows_a_burst_then_paces_to_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10.0, burst=3, clock=lambda: now[0])
    for _ in range(3):
        await asyncio.wait_for(bucket.acquire(), timeout=0.01)
    waiter = asyncio.create_task(bucket.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    now[0] = 0.1  # one token refilled at 10/s
    await asyncio.wait_for(waiter, timeout=1)


async def test_hold_serves_only_the_fire_path_until_released() -> None:
    pool = WorkPool(workers=2, qps=1000, burst=1000)
    order: list[str] = []
    created = asyncio.Event()
    written = asyncio.Event()

    async def create() -> None:
        order.append("create")
        created.set()

    async def status() -> None:
        order.append("status")
        written.set()

    pool.hold(True)
    pool.submit(Lane.STATUS, status)
    pool.submit(Lane.CREATE, create)
    runner = asyncio.create_task(pool.run())
    try:
        await asyncio.wait_for(created.wait(), timeout=5)
        for _ in range(20):
            await asyncio.sleep(0)
        assert order == ["create"]
        assert pool.depth(Lane.STATUS) == 1
        pool.hold(False)
        await asyncio.wait_for(written.wait(), timeout=5)
    finally:
        runner.cancel()
    assert order == ["create", "status"]
