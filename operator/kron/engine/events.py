"""Kubernetes Events on tasks, without flooding the API server.

Four limits, after client-go's event correlator: an Event identical to one posted
for the same task in the last ten minutes only bumps that Event's count; each task
may post `burst` Events of each type (Normal, Warning: a chatty schedule never
starves its own failure reports) at once and then one per `refill` seconds; the
whole operator posts at most `rate` Events a second (`rate_burst` at once), since
per-task budgets alone would let 10,000 tasks post 333 a second; and Events go
through the lowest-priority lane of the work pool, so they never delay a run.

The operator-wide budget is shared fairly between namespaces: it is the Event
lane's own rate in the work pool, whose namespaces take turns (weighted round
robin), so one namespace's chatty tasks cannot use it all. Events beyond it wait
for their namespace's turn. At most `max_pending` wait in all, and a namespace
may add one only while it has fewer waiting than there are free places left, so
one namespace fills at most half the queue and a quiet one always finds room.
Events over a limit are dropped and counted.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kron.api.constants import API_VERSION, KIND
from kron.engine.pool import Lane, WorkPool
from kron.k8s.api import ApiError, KubeApi
from kron.k8s.runs import TaskRef
from kron.metrics import Metrics
from kron.planner import TaskEvent
from kron.planner.timeutil import rfc3339

log = logging.getLogger(__name__)

EVENT_RATE = 5.0
"""Events a second for the whole operator. Each costs the API server about what a
run's create costs (measured: 2.2 Events per fire at 5 fires/s before this cap);
Events are for people reading `kubectl describe`, and 300 a minute is plenty."""
EVENT_RATE_BURST = 50
SERIES_WINDOW = 600.0
SERIES_CACHE = 4096
COMPONENT = "kron"
ROUTINE = frozenset({"Fired", "Succeeded", "Deleted"})
"""Events of every run that went as planned (created, succeeded, removed from the
history by its limits): posted only with `routine_events`."""


@dataclass(slots=True)
class _Series:
    name: str
    count: int
    first: float


@dataclass(slots=True)
class _Budget:
    tokens: float
    stamp: float


class EventRecorder:
    def __init__(
        self,
        api: KubeApi,
        pool: WorkPool,
        metrics: Metrics,
        *,
        identity: str,
        burst: int = 10,
        refill_seconds: float = 30.0,
        max_pending: int = 100,
        rate: float = EVENT_RATE,
        rate_burst: int = EVENT_RATE_BURST,
        clock: Callable[[], float] = time.time,
        routine: bool = True,
    ) -> None:
        self._routine = routine
        self._api = api
        self._pool = pool
        self._metrics = metrics
        self._identity = identity
        self._burst = burst
        self._refill = refill_seconds
        self._max_pending = max_pending
        self._clock = clock
        pool.limit_lane(Lane.EVENT, rate, rate_burst)
        self._budgets: dict[tuple[str, str], _Budget] = {}
        self._series: OrderedDict[tuple[str, str, str, str], _Series] = OrderedDict()

    def forget(self, uid: str) -> None:
        for kind in ("Normal", "Warning"):
            self._budgets.pop((uid, kind), None)

    def record(self, task: TaskRef, event: TaskEvent) -> None:
        if event.reason in ROUTINE and not self._routine:
            return
        now = self._clock()
        waiting = self._pool.depth(Lane.EVENT)
        # A namespace's own waiting Events must stay below the free places (this
        # also bounds the total): one namespace alone holds at most half.
        free = self._max_pending - waiting
        if self._pool.depth(Lane.EVENT, task.namespace) >= free or not self._spend(
            (task.uid, str(event.type)), now
        ):
            self._metrics.events_dropped.inc()
            return
        self._pool.submit(
            Lane.EVENT, lambda: self._post(task, event, now), namespace=task.namespace
        )

    def _spend(self, key: tuple[str, str], now: float) -> bool:
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = _Budget(float(self._burst), now)
        budget.tokens = min(self._burst, budget.tokens + (now - budget.stamp) / self._refill)
        budget.stamp = now
        if budget.tokens < 1.0:
            return False
        budget.tokens -= 1.0
        return True

    async def _post(self, task: TaskRef, event: TaskEvent, at: float) -> None:
        key = (task.uid, str(event.type), event.reason, event.message)
        series = self._series.get(key)
        try:
            if series is not None and at - series.first < SERIES_WINDOW:
                series.count += 1
                await self._api.patch_event(
                    task.namespace,
                    series.name,
                    {"count": series.count, "lastTimestamp": rfc3339(at)},
                )
                return
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"generateName": f"{task.name}.", "namespace": task.namespace},
                "involvedObject": {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": task.name,
                    "namespace": task.namespace,
                    "uid": task.uid,
                },
                "type": str(event.type),
                "reason": event.reason,
                "message": event.message[:1024],
                "source": {"component": COMPONENT},
                "reportingComponent": f"{COMPONENT}.dev/operator",
                "reportingInstance": self._identity[:128],
                "firstTimestamp": rfc3339(at),
                "lastTimestamp": rfc3339(at),
                "count": 1,
            }
            created = await self._api.create_event(task.namespace, body)
        except ApiError as err:
            # Events are best effort: a lost one is logged, never retried at the cost of runs.
            log.debug(
                "event %s for %s/%s not posted: %s", event.reason, task.namespace, task.name, err
            )
            if series is not None:
                self._series.pop(key, None)
            return
        self._series[key] = _Series(created["metadata"]["name"], 1, at)
        self._series.move_to_end(key)
        while len(self._series) > SERIES_CACHE:
            self._series.popitem(last=False)
