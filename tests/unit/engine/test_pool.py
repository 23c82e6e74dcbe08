"""The work pool: lanes in priority order, coalescing by key, a token bucket."""

from __future__ import annotations

import asyncio

from kron.engine.pool import HOLD_LIMIT, Lane, TokenBucket, WorkPool
from kron.metrics import Metrics
from support.wait import async_wait_until


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


async def test_a_hold_never_released_stops_holding_after_its_limit() -> None:
    """A dispatcher that keeps holding (a herd planned for long, or a task that keeps
    asking to be planned again) cannot starve status writes, cleanup and Events."""
    now = [0.0]
    pool = WorkPool(workers=1, qps=1000, burst=1000, clock=lambda: now[0])
    written = asyncio.Event()

    async def status() -> None:
        written.set()

    async def create() -> None:
        pass

    pool.hold(True)
    pool.submit(Lane.STATUS, status)
    runner = asyncio.create_task(pool.run())
    try:
        pool.submit(Lane.CREATE, create)
        await async_wait_until(
            lambda: pool.depth(Lane.CREATE) == 0, timeout=5, message="the create ran"
        )
        assert pool.depth(Lane.STATUS) == 1  # held
        now[0] = HOLD_LIMIT + 0.1
        pool.hold(True)  # the dispatcher asks again: the hold has run out all the same
        pool.submit(Lane.CREATE, create)
        await asyncio.wait_for(written.wait(), timeout=5)
    finally:
        runner.cancel()


# -- fair between namespaces ---------------------------------------------------------


def recording(order: list[str], name: str, done: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
    async def run() -> None:
        order.append(name)
        if done is not None:
            done.set()

    return run


async def run_all(pool: WorkPool, order: list[str], count: int) -> None:
    """Run the pool until `count` jobs have run."""
    runner = asyncio.create_task(pool.run())
    try:
        for _ in range(1000):
            if len(order) >= count:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"only {len(order)} of {count} jobs ran: {order}")
    finally:
        runner.cancel()


async def test_namespaces_take_turns_in_a_lane_whatever_was_queued_first() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    for i in range(6):
        pool.submit(Lane.CREATE, recording(order, f"a{i}"), namespace="a", order=100.0)
    for i in range(2):
        pool.submit(Lane.CREATE, recording(order, f"b{i}"), namespace="b", order=100.0)
    assert pool.depth(Lane.CREATE) == 8
    assert pool.depth(Lane.CREATE, "b") == 2
    await run_all(pool, order, 8)
    assert order == ["a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5"]


async def test_a_namespace_of_weight_three_takes_three_turns_to_one() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000, weights={"a": 3})
    order: list[str] = []
    for _ in range(8):
        pool.submit(Lane.STATUS, recording(order, "a"), namespace="a")
    for _ in range(4):
        pool.submit(Lane.STATUS, recording(order, "b"), namespace="b")
    await run_all(pool, order, 12)
    assert "".join(order) == "aaabaaabaabb"


async def test_a_weight_below_one_gives_the_others_more_turns() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000, weights={"batch": 0.5})
    order: list[str] = []
    for _ in range(4):
        pool.submit(Lane.CREATE, recording(order, "x"), namespace="batch")
    for _ in range(6):
        pool.submit(Lane.CREATE, recording(order, "o"), namespace="other")
    await run_all(pool, order, 10)
    # "batch" weighs half of a default namespace: one turn to two.
    assert "".join(order) == "xooxooxoox"


async def test_creates_within_a_namespace_go_earliest_fire_time_first() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    for fire_at in (30.0, 10.0, 20.0, 10.0):
        pool.submit(Lane.CREATE, recording(order, f"{fire_at:g}"), namespace="a", order=fire_at)
    await run_all(pool, order, 4)
    assert order == ["10", "10", "20", "30"]


async def test_other_lanes_keep_submission_order_within_a_namespace() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    for name in ("first", "second", "third"):
        pool.submit(Lane.STATUS, recording(order, name), namespace="a", order=-float(len(order)))
    await run_all(pool, order, 3)
    assert order == ["first", "second", "third"]


async def test_a_higher_lane_still_goes_before_any_namespace_of_a_lower_one() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    for i in range(3):
        pool.submit(Lane.STATUS, recording(order, f"status-b{i}"), namespace="b")
    for i in range(3):
        pool.submit(Lane.CREATE, recording(order, f"create-a{i}"), namespace="a")
    await run_all(pool, order, 6)
    assert order == [f"create-a{i}" for i in range(3)] + [f"status-b{i}" for i in range(3)]


async def test_coalescing_by_key_holds_across_namespace_queues() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    for _ in range(3):
        pool.submit(Lane.STATUS, recording(order, "a"), key="uid-a", namespace="a")
        pool.submit(Lane.STATUS, recording(order, "b"), key="uid-b", namespace="b")
    assert pool.depth(Lane.STATUS) == 2
    await run_all(pool, order, 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(order) == ["a", "b"]
    # Once run, the key is free again: a new change is queued.
    pool.submit(Lane.STATUS, recording(order, "a"), key="uid-a", namespace="a")
    assert pool.depth(Lane.STATUS, "a") == 1


async def test_hold_keeps_every_namespace_on_the_fire_path() -> None:
    pool = WorkPool(workers=1, qps=1000, burst=1000)
    order: list[str] = []
    pool.hold(True)
    pool.submit(Lane.STATUS, recording(order, "status-a"), namespace="a")
    pool.submit(Lane.CREATE, recording(order, "create-a"), namespace="a")
    pool.submit(Lane.CREATE, recording(order, "create-b"), namespace="b")
    runner = asyncio.create_task(pool.run())
    try:
        for _ in range(50):
            await asyncio.sleep(0)
        assert order == ["create-a", "create-b"]
        pool.hold(False)
        for _ in range(50):
            await asyncio.sleep(0)
    finally:
        runner.cancel()
    assert order == ["create-a", "create-b", "status-a"]


async def test_a_lane_with_its_own_rate_waits_for_it_and_wakes_when_it_refills() -> None:
    now = [0.0]
    pool = WorkPool(workers=2, qps=1000, burst=1000, clock=lambda: now[0])
    pool.limit_lane(Lane.EVENT, rate=10.0, burst=2)
    order: list[str] = []
    for i in range(4):
        pool.submit(Lane.EVENT, recording(order, f"e{i}"), namespace="a")
    pool.submit(Lane.STATUS, recording(order, "status"), namespace="a")
    runner = asyncio.create_task(pool.run())
    try:
        for _ in range(50):
            await asyncio.sleep(0)
        assert order == ["status", "e0", "e1"]  # the burst, and other lanes unaffected
        now[0] = 0.1  # one token at 10/s: the workers wake for it by themselves
        await async_wait_until(
            lambda: len(order) == 4, timeout=5, interval=0.01, message="a fourth event"
        )
        await asyncio.sleep(0.15)
        assert order == ["status", "e0", "e1", "e2"]
    finally:
        runner.cancel()


async def test_queue_wait_is_measured_per_lane_and_per_namespace_only_per_task() -> None:
    for per_task in (False, True):
        metrics = Metrics(per_task=per_task)
        pool = WorkPool(workers=1, qps=1000, burst=1000, metrics=metrics)
        order: list[str] = []
        pool.submit(Lane.CREATE, recording(order, "a"), namespace="team-a")
        pool.submit(Lane.STATUS, recording(order, "b"), namespace="team-b")
        pool.refresh_gauges()
        depth = metrics.registry.get_sample_value
        assert depth("kron_queue_depth", {"queue": "create"}) == 1
        await run_all(pool, order, 2)
        count = metrics.registry.get_sample_value
        assert count("kron_queue_wait_seconds_count", {"lane": "create"}) == 1
        assert count("kron_queue_wait_seconds_count", {"lane": "status"}) == 1
        per_ns = count(
            "kron_namespace_queue_wait_seconds_count", {"lane": "create", "namespace": "team-a"}
        )
        assert per_ns == (1 if per_task else None)
