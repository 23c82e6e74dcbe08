"""A prioritized, rate-limited pool of API workers.

All API writes kron starts go through one token bucket (`qps`, `burst`), so the
operator as a whole stays within what it was allowed to send, and through lanes
served in priority order: creating due runs first, then Replace deletions, status
writes, history cleanup and last Events. A herd of ticks on the same second thus
drains at the full rate while status and events wait their turn: they are off the
fire path. Jobs keyed per task (status writes) are coalesced while queued.

While the dispatcher is still planning a herd (`hold`), the workers serve only the
fire path (creates and Replace deletes): otherwise each pause between planning
batches let status writes of the tasks just fired take the workers, and the
API server, away from the creates still to come.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import IntEnum

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Lane(IntEnum):
    CREATE = 0
    DELETE = 1
    STATUS = 2
    CLEANUP = 3
    EVENT = 4


FIRE_PATH = (Lane.CREATE, Lane.DELETE)


class TokenBucket:
    """`rate` tokens a second up to `burst`; `acquire` waits for one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._burst = max(1, burst)
        self._tokens = float(self._burst)
        self._clock = clock
        self._stamp = clock()

    async def acquire(self) -> None:
        while True:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def refund(self) -> None:
        self._tokens = min(self._burst, self._tokens + 1.0)


class WorkPool:
    def __init__(self, *, workers: int, qps: float, burst: int) -> None:
        self._lanes: list[deque[tuple[Job, str | None]]] = [deque() for _ in Lane]
        self._queued_keys: set[tuple[Lane, str]] = set()
        self._ready = asyncio.Event()
        self._bucket = TokenBucket(qps, burst)
        self._workers = workers
        self._later: set[asyncio.TimerHandle] = set()
        self._hold = False
        self.in_flight = 0

    def hold(self, on: bool) -> None:
        """Serve only the fire-path lanes while `on` (the dispatcher has more due)."""
        if self._hold and not on:
            self._ready.set()
        self._hold = on

    def depth(self, lane: Lane) -> int:
        return len(self._lanes[lane])

    def submit(self, lane: Lane, job: Job, key: str | None = None) -> None:
        """Queue `job`; with a `key`, a job already queued under it makes this a no-op."""
        if key is not None:
            if (lane, key) in self._queued_keys:
                return
            self._queued_keys.add((lane, key))
        self._lanes[lane].append((job, key))
        self._ready.set()

    def submit_later(self, delay: float, lane: Lane, job: Job, key: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._later.discard(handle)
            self.submit(lane, job, key)

        handle = loop.call_later(delay, fire)
        self._later.add(handle)

    def clear(self) -> None:
        """Drop everything queued or scheduled (leadership lost)."""
        for lane in self._lanes:
            lane.clear()
        self._queued_keys.clear()
        self._hold = False
        for handle in self._later:
            handle.cancel()
        self._later.clear()

    def _take(self) -> Job | None:
        for lane_id, lane in enumerate(self._lanes):
            if self._hold and lane_id not in FIRE_PATH:
                return None
            if lane:
                job, key = lane.popleft()
                if key is not None:
                    self._queued_keys.discard((Lane(lane_id), key))
                return job
        return None

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self._workers):
                group.create_task(self._worker())

    def _idle(self) -> bool:
        if self._hold:
            return not any(self._lanes[lane] for lane in FIRE_PATH)
        return not any(self._lanes)

    async def _worker(self) -> None:
        while True:
            if self._idle():
                self._ready.clear()
                await self._ready.wait()
                continue
            # Token first, then the most urgent job at that moment: a create that
            # arrives while workers wait for tokens still goes before queued status.
            await self._bucket.acquire()
            job = self._take()
            if job is None:
                self._bucket.refund()
                continue
            self.in_flight += 1
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A job must handle its own API errors; anything else is a bug, and
                # one bad job must not take the worker (or other tasks) down with it.
                log.exception("unexpected error in an API job")
            finally:
                self.in_flight -= 1
