"""Fair queueing between namespaces: deficit round robin over per-namespace queues.

One tenant's herd must not delay another tenant's work by the length of the herd.
A `FairQueue` keeps one queue per flow (a namespace) and serves the flows that have
items in turn (deficit round robin, Shreedhar and Varghese 1995): each turn a flow
earns its quantum, its weight divided by the smallest weight configured, and
spends one unit per item taken. With equal weights the flows alternate item by
item; a flow of weight 3 takes three items a turn against one for weight 1. Every
item costs the same (one API request), so the deficit counter is a count.

Inside a flow, items come out smallest first in an ordered queue (a heap: the
caller puts the order key first in each item and a tie-breaker after it), else
first in, first out. Push and pop are O(1) (O(log n) in the flow's
heap when ordered) whatever the number of flows: the round is a deque of the
flows that have items, and an empty flow is dropped (so memory follows the
namespaces with work waiting, not every namespace ever seen).

Weights come from the operator's settings (`--namespace-weights`), never from
anything a tenant writes.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_WEIGHT = 1.0


class _Flow:
    __slots__ = ("credit", "items", "name", "quantum")

    def __init__(self, name: str, quantum: float, items: Any) -> None:
        self.name = name
        self.quantum = quantum
        self.credit = 0.0
        self.items = items
        """A heap of items when ordered, else a deque."""


class FairQueue(Generic[T]):
    """Items per flow, flows served by weighted deficit round robin."""

    __slots__ = ("_active", "_flows", "_len", "_ordered", "_scale", "_weights")

    def __init__(self, weights: Mapping[str, float] | None = None, *, ordered: bool = False):
        self._weights = dict(weights or {})
        for flow, weight in self._weights.items():
            if not weight > 0:
                raise ValueError(f"weight of {flow!r} must be greater than 0, got {weight}")
        # Quanta are weights over the smallest one, so every turn takes at least one
        # item: a pop never walks past flows that cannot be served yet.
        self._scale = 1.0 / min([DEFAULT_WEIGHT, *self._weights.values()])
        self._ordered = ordered
        self._flows: dict[str, _Flow] = {}
        self._active: deque[_Flow] = deque()
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def weight(self, flow: str) -> float:
        return self._weights.get(flow, DEFAULT_WEIGHT)

    def push(self, flow: str, item: T) -> None:
        """Queue `item` in `flow` (in an ordered queue, items must compare: one
        tuple per item, key first, keeps this to one allocation per item)."""
        entry = self._flows.get(flow)
        if entry is None:
            quantum = self.weight(flow) * self._scale
            entry = _Flow(flow, quantum, [] if self._ordered else deque())
            self._flows[flow] = entry
            self._active.append(entry)
        if self._ordered:
            heapq.heappush(entry.items, item)
        else:
            entry.items.append(item)
        self._len += 1

    def pop(self) -> T:
        """The next item in fair order; IndexError when empty."""
        if not self._active:
            raise IndexError("pop from an empty FairQueue")
        flow = self._active[0]
        if flow.credit < 1.0:  # a new turn for this flow
            flow.credit += flow.quantum
        item: T = heapq.heappop(flow.items) if self._ordered else flow.items.popleft()
        flow.credit -= 1.0
        self._len -= 1
        if not flow.items:
            self._active.popleft()
            del self._flows[flow.name]  # its deficit goes with it, as DRR resets it
        elif flow.credit < 1.0:
            self._active.rotate(-1)
        return item

    def depth(self, flow: str) -> int:
        entry = self._flows.get(flow)
        return len(entry.items) if entry is not None else 0

    def depths(self) -> Iterator[tuple[str, int]]:
        """(flow, items waiting) of every flow with items (for gauges, not the hot path)."""
        for entry in self._flows.values():
            yield entry.name, len(entry.items)

    def clear(self) -> None:
        self._flows.clear()
        self._active.clear()
        self._len = 0
