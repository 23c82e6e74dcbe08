"""One heap of wake times for every task.

The operator does not keep an asyncio task or a kopf timer per object (that does
not scale to 10^5 tasks). Each task has at most one wake time here; the
dispatcher sleeps until the earliest and pops every task that is due. Rescheduling
pushes a new entry and leaves the old one to be skipped when it surfaces (lazy
deletion), with compaction when stale entries pile up.
"""

from __future__ import annotations

import heapq
import itertools


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._when: dict[str, float] = {}
        self._seq = itertools.count()

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
        if len(self._heap) > 2 * len(self._when) + 1024:
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

    def next_time(self) -> float | None:
        self._drop_stale_top()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[str]:
        """Up to `limit` keys whose wake time is at or before `now`, earliest first."""
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

    def count_due(self, now: float) -> int:
        return sum(1 for when in self._when.values() if when <= now)

    def _drop_stale_top(self) -> None:
        while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def _compact(self) -> None:
        self._heap = [(w, next(self._seq), k) for k, w in self._when.items()]
        heapq.heapify(self._heap)
