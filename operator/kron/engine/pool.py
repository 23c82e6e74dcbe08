"""A prioritized, rate-limited pool of API workers, fair between namespaces.

All API writes kron starts go through one token bucket (`qps`, `burst`), so the
operator as a whole stays within what it was allowed to send, and through lanes
served in priority order: creating due runs first, then Replace deletions, status
writes, history cleanup and last Events. A herd of ticks on the same second thus
drains at the full rate while status and events wait their turn: they are off the
fire path. Jobs keyed per task (status writes) are coalesced while queued.

Inside each lane, namespaces are served by weighted deficit round robin
(kron.engine.fair): a namespace with 5,000 creates queued and one with 5 take turns,
so the second one's runs go out within a few requests, not after the herd. Creates
within a namespace go earliest fire time first; other lanes first in, first out. A
lane may have a rate of its own on top of the global one (Events: see events.py);
its jobs then wait for their namespace's turn in that budget.

While the dispatcher is still planning a herd (`hold`), the workers serve only the
fire path (creates and Replace deletes): otherwise each pause between planning
batches let status writes of the tasks just fired take the workers, and the
API server, away from the creates still to come.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import IntEnum
from typing import Any

from kron.engine.fair import FairQueue
from kron.metrics import Metrics

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Lane(IntEnum):
    CREATE = 0
    DELETE = 1
    STATUS = 2
    CLEANUP = 3
    EVENT = 4


LANES = tuple(Lane)
FIRE_PATH = (Lane.CREATE, Lane.DELETE)
HOLD_LIMIT = 2.0
"""Seconds the other lanes may be held back for the fire path at a stretch."""
ORDERED_LANES = frozenset({Lane.CREATE})
"""Lanes whose jobs carry an `order` (the fire time) served earliest first."""

_Item = tuple[float, int, Job, str | None, float, str]
"""A queued job: (order, sequence number, job, coalescing key, monotonic time
submitted, namespace); one tuple, so queueing allocates one object per job."""


class TokenBucket:
    """`rate` tokens a second up to `burst`; `acquire` waits for one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._burst = max(1, burst)
        self._tokens = float(self._burst)
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return self._tokens

    async def acquire(self) -> None:
        while True:
            if self._refill() >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def try_acquire(self) -> bool:
        """Take a token if one is there, without waiting."""
        if self._refill() < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def available(self) -> bool:
        return self._refill() >= 1.0

    def wait_time(self) -> float:
        """Seconds until the next token."""
        return max(0.0, (1.0 - self._refill()) / self._rate)

    def refund(self) -> None:
        self._tokens = min(self._burst, self._tokens + 1.0)


class WorkPool:
    def __init__(
        self,
        *,
        workers: int,
        qps: float,
        burst: int,
        weights: Mapping[str, float] | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lanes: list[FairQueue[_Item]] = [
            FairQueue(weights, ordered=lane in ORDERED_LANES) for lane in Lane
        ]
        self._limits: list[TokenBucket | None] = [None for _ in Lane]
        self._queued_keys: set[tuple[Lane, str]] = set()
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        self._bucket = TokenBucket(qps, burst)
        self._workers = workers
        self._later: set[asyncio.TimerHandle] = set()
        self._refill_wake: asyncio.TimerHandle | None = None
        self._hold = False
        self._hold_since = 0.0
        self._hold_wake: asyncio.TimerHandle | None = None
        self._clock = clock
        self._metrics = metrics
        self._per_namespace = metrics is not None and metrics.per_task
        self._waits: list[Any] = (
            [metrics.queue_wait.labels(lane.name.lower()) for lane in Lane] if metrics else []
        )
        self.in_flight = 0

    def limit_lane(self, lane: Lane, rate: float, burst: int) -> None:
        """Serve `lane` at most `rate` jobs a second (`burst` at once), fairly between
        namespaces, on top of the global limit."""
        self._limits[lane] = TokenBucket(rate, burst, self._clock)

    def hold(self, on: bool) -> None:
        """Serve only the fire-path lanes while `on` (the dispatcher has more due), for
        HOLD_LIMIT seconds at the most: however long a herd takes to plan (or a task
        that keeps asking to be planned again), status writes, cleanup and Events are
        served again after that, interleaved with the creates."""
        if self._hold and not on:
            self._ready.set()
            if self._hold_wake is not None:
                self._hold_wake.cancel()
                self._hold_wake = None
        if on and not self._hold:
            self._hold_since = self._clock()
            # Wake the workers when it expires: they may be waiting for nothing else.
            with contextlib.suppress(RuntimeError):  # no loop: no workers to wake
                loop = asyncio.get_running_loop()
                self._hold_wake = loop.call_later(HOLD_LIMIT, self._ready.set)
        self._hold = on

    def _holding(self) -> bool:
        return self._clock() - self._hold_since < HOLD_LIMIT

    def depth(self, lane: Lane, namespace: str | None = None) -> int:
        """Jobs waiting in `lane` (of `namespace` only, when given)."""
        queue = self._lanes[lane]
        return len(queue) if namespace is None else queue.depth(namespace)

    def submit(
        self,
        lane: Lane,
        job: Job,
        key: str | None = None,
        *,
        namespace: str = "",
        order: float = 0.0,
    ) -> None:
        """Queue `job` for `namespace`; with a `key`, a job already queued under it
        makes this a no-op. In the create lane `order` is the run's fire time."""
        if key is not None:
            if (lane, key) in self._queued_keys:
                return
            self._queued_keys.add((lane, key))
        item = (order, next(self._seq), job, key, self._clock(), namespace)
        self._lanes[lane].push(namespace, item)
        self._ready.set()

    def submit_later(
        self,
        delay: float,
        lane: Lane,
        job: Job,
        key: str | None = None,
        *,
        namespace: str = "",
        order: float = 0.0,
    ) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._later.discard(handle)
            self.submit(lane, job, key, namespace=namespace, order=order)

        handle = loop.call_later(delay, fire)
        self._later.add(handle)

    def clear(self) -> None:
        """Drop everything queued or scheduled (leadership lost)."""
        for lane in self._lanes:
            lane.clear()
        self._queued_keys.clear()
        self._hold = False
        if self._hold_wake is not None:
            self._hold_wake.cancel()
            self._hold_wake = None
        for handle in self._later:
            handle.cancel()
        self._later.clear()
        if self._refill_wake is not None:
            self._refill_wake.cancel()
            self._refill_wake = None

    def refresh_gauges(self) -> None:
        """Queue depth per lane (and per namespace with per-task metrics on)."""
        metrics = self._metrics
        if metrics is None:
            return
        if self._per_namespace:
            metrics.namespace_queue_depth.clear()
        for lane in Lane:
            name = lane.name.lower()
            metrics.queue_depth.labels(name).set(len(self._lanes[lane]))
            if self._per_namespace:
                for namespace, depth in self._lanes[lane].depths():
                    metrics.namespace_queue_depth.labels(name, namespace).set(depth)

    # -- the workers --

    def _servable(self, lane: Lane) -> bool:
        if not self._lanes[lane]:
            return False
        limit = self._limits[lane]
        if limit is None or limit.available():
            return True
        self._wake_after(limit.wait_time())
        return False

    def _wake_after(self, delay: float) -> None:
        """Wake the workers when a lane's own budget has a token again."""
        if self._refill_wake is not None:
            return

        def wake() -> None:
            self._refill_wake = None
            self._ready.set()

        self._refill_wake = asyncio.get_running_loop().call_later(delay, wake)

    def _take(self) -> Job | None:
        for lane, queue in zip(LANES, self._lanes, strict=True):
            if self._hold and lane not in FIRE_PATH and self._holding():
                return None
            if not queue:
                continue
            limit = self._limits[lane]
            if limit is not None and not limit.try_acquire():
                continue
            _, _, job, key, submitted, namespace = queue.pop()
            if key is not None:
                self._queued_keys.discard((lane, key))
            if self._metrics is not None:
                waited = self._clock() - submitted
                self._waits[lane].observe(waited)
                if self._per_namespace:
                    self._metrics.namespace_queue_wait.labels(lane.name.lower(), namespace).observe(
                        waited
                    )
            return job
        return None

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self._workers):
                group.create_task(self._worker())

    def _idle(self) -> bool:
        lanes = FIRE_PATH if self._hold and self._holding() else LANES
        return not any(self._servable(lane) for lane in lanes)

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
