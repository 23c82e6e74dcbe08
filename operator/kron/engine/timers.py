"""One heap of wake times for every task.

The operator does not keep an asyncio task or a kopf timer per object (that does
not scale to 10^5 tasks). Each task has at most one wake time here; the
dispatcher sleeps until the earliest and pops every task that is due. Rescheduling
pushes a new entry and leaves the old one to be skipped when it surfaces (lazy
deletion), with compaction when stale entries pile up.

With a `group` (the engine passes each task's namespace), tasks that are due are
handed out fairly between groups, earliest first inside each (kron.engine.fair):
a namespace with a herd of 5,000 tasks on one second does not get all of them
planned, and their runs queued, before another namespace's task due on the same
second. Due entries move from the heap to that fair queue when `pop_due` finds
them due, once each, so the cost per task stays O(log n).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping

from kron.engine.fair import FairQueue


class Timers:
    def __init__(
        self,
        group: Callable[[str], str] | None = None,
        weights: Mapping[str, float] | None = None,
    ) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._when: dict[str, float] = {}
        self._seq = itertools.count()
        self._group = group
        # First in, first out per group: entries leave the heap earliest first, and a
        # (when, key) pair is the one object allocated per due task.
        self._due: FairQueue[tuple[float, str]] = FairQueue(weights)
        self._due_min = 0.0
        """The earliest wake time moved to `_due` since it was last empty (a lower
        bound: entries may have been rescheduled since)."""

    def __len__(self) -> int:
        return len(self._when)

    def get(self, key: str) -> float | None:
        return self._when.get(key)

    def set(self, key: str, when: float | None) -> None:
        """Wake `key` at `when` (None: never), replacing any earlier setting."""
        if when is None:
            self._when.pop(key, None)
            return
        if self._when.get(key) == when:
            return
        self._when[key] = when
        heapq.heappush(self._heap, (when, next(self._seq), key))
        if len(self._heap) + len(self._due) > 2 * len(self._when) + 1024:
            self._compact()

    def set_earlier(self, key: str, when: float) -> None:
        """Wake `key` at `when` unless it is already due sooner."""
        current = self._when.get(key)
        if current is None or when < current:
            self.set(key, when)

    def cancel(self, key: str) -> None:
        self._when.pop(key, None)

    def clear(self) -> None:
        self._heap.clear()
        self._when.clear()
        self._due.clear()

    def next_time(self) -> float | None:
        self._drop_stale_top()
        top = self._heap[0][0] if self._heap else None
        if self._due:
            return self._due_min if top is None else min(top, self._due_min)
        return top

    def pop_due(self, now: float, limit: int) -> list[str]:
        """Up to `limit` keys whose wake time is at or before `now`: earliest first,
        or with a `group`, fairly between groups and earliest first in each."""
        if self._group is not None:
            return self._pop_due_fairly(now, limit)
        due: list[str] = []
        while self._heap and len(due) < limit:
            when, _, key = self._heap[0]
            if self._when.get(key) != when:
                heapq.heappop(self._heap)
                continue
            if when > now:
                break
            heapq.heappop(self._heap)
            del self._when[key]
            due.append(key)
        return due

    def _pop_due_fairly(self, now: float, limit: int) -> list[str]:
        assert self._group is not None
        heap, when_of = self._heap, self._when
        if not self._due:
            self._due_min = now
        while heap and heap[0][0] <= now:
            when, _, key = heapq.heappop(heap)
            if when_of.get(key) == when:
                self._due.push(self._group(key), (when, key))
                self._due_min = min(self._due_min, when)
        due: list[str] = []
        while self._due and len(due) < limit:
            when, key = self._due.pop()
            if when_of.get(key) != when:
                continue  # rescheduled or cancelled since it was found due
            del when_of[key]
            due.append(key)
        return due

    def count_due(self, now: float) -> int:
        return sum(1 for when in self._when.values() if when <= now)

    def _drop_stale_top(self) -> None:
        while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def _compact(self) -> None:
        self._heap = [(w, next(self._seq), k) for k, w in self._when.items()]
        heapq.heapify(self._heap)
        self._due.clear()  # every live entry is in the new heap
