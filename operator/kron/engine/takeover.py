"""When a new leader first plans each task: now only if the task may have work now.

A replica that takes the Lease (at start, or after a failover) used to plan every
task at once. With 100,000 tasks that was minutes of planning before the first
tick that was actually due could fire. Most tasks need nothing until their next
fire time, and their persisted status says when that is. A task whose status is
current (written for its present spec, no run it recorded as active has ended, no
request waiting, nothing pending earlier) is first planned at that time; every
other task at once. The wait is capped, so a status written by another kron
version can delay a plan by at most TAKEOVER_CAP seconds, never lose a tick: a
tick found due at that plan goes through catchUpPolicy as any other backlog.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

from kron.engine.index import TaskEntry
from kron.engine.timers import Timers
from kron.k8s.observed import parse_time
from kron.planner.conditions import Reason
from kron.planner.requests import handled_all

SCHEDULED: Final = Reason.SCHEDULED
TAKEOVER_CAP: Final = 600.0
"""Longest a new leader waits before planning a task whose status looks current."""


def first_plan_at(entry: TaskEntry, now: float) -> float:
    """When a new leader should first plan `entry` (`now` unless it can safely wait)."""
    if entry.invalid is not None or entry.raw_spec is not None or entry.calendars_changed:
        return now
    try:
        status: Any = json.loads(entry.persisted_json)
    except ValueError:
        return now
    if not isinstance(status, dict) or status.get("observedGeneration") != entry.generation:
        return now
    if entry.ready_reason != SCHEDULED:  # invalid, held, completed, not planned yet
        return now
    if not handled_all(entry.annotations, status.get("handledRequests")):
        return now
    if not _active_still_running(entry, status.get("active")):
        return now
    if status.get("successDueSince") is not None:
        return now  # a success deadline may come due before the next fire
    wakes = [parse_time(status.get("nextScheduleTime"))]
    for pending in status.get("pending") or ():
        if not isinstance(pending, dict):
            return now
        wakes += [parse_time(pending.get("notBefore")), parse_time(pending.get("notAfter"))]
    known = [w for w in wakes if w is not None]
    if not known:
        return now
    return max(now, min(*known, now + TAKEOVER_CAP))


def _active_still_running(entry: TaskEntry, active: object) -> bool:
    """Every run the status lists as active is still running (its end will come as a
    watch event), and no running run is missing from the list."""
    if not isinstance(active, list):
        return False
    recorded = {a.get("name") for a in active if isinstance(a, dict)}
    running = {name for name, run in entry.runs.items() if not run.finished_phase}
    return recorded == running


class Takeover:
    """The tasks whose first plan time a new leader has not set yet.

    Deciding reads each task's persisted status: at 100,000 tasks seconds of work,
    so the dispatcher does it a turn's budget at a time (`step`) and the event loop
    keeps renewing the Lease in between.
    """

    def __init__(self) -> None:
        self._pending: deque[str] = deque()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def start(self, uids: Iterable[str]) -> None:
        self._pending = deque(uids)

    def clear(self) -> None:
        self._pending.clear()

    def step(
        self, tasks: Mapping[str, TaskEntry], timers: Timers, now: float, budget: float
    ) -> bool:
        """Set first plan times for `budget` seconds (at least one task, however slow);
        True while some remain."""
        started = time.perf_counter()
        pending = self._pending
        while pending:
            uid = pending.popleft()
            entry = tasks.get(uid)
            if entry is not None and not entry.terminating:
                try:
                    when = first_plan_at(entry, now)
                except Exception:  # an unreadable status: plan it, which reports it
                    when = now
                # Keep an earlier wake: an event since `start` may have asked for one.
                timers.set_earlier(uid, when)
            if time.perf_counter() - started >= budget:
                break
        return bool(pending)
