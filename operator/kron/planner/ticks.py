"""Which due ticks start, which were missed, and where the cursor moves.

A tick is *due* once its fire time (nominal + jitter) has passed and it lies after
the cursor. Due ticks split in two:

- on time: their fire time came while this replica was dispatching
  (`fire_at >= resumed_at`). They start, even if the dispatcher runs late under load.
- backlog: their fire time came while no replica could fire them (operator down,
  failover). `catchUpPolicy` picks which of them still start: `Latest` the most
  recent one (unless an on-time tick is due as well, which is more recent still),
  `All` up to `CATCH_UP_CAP` most recent ones, oldest first, `None` none.

`startingDeadlineSeconds` then drops any tick that can no longer start within its
deadline, counted from its fire time. Excluded ticks are never started nor counted missed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kron.api import CatchUpPolicy, Trigger
from kron.schedule import Tick, Timeline

CATCH_UP_CAP = 100
"""Most backlog ticks `catchUpPolicy: All` starts after one outage."""

SCAN_LIMIT = 1_000
"""Most backlog ticks examined one by one to count them missed or excluded. A
per-second task down for a day has 86,400; beyond this the count is a lower bound."""


class MissReason:
    DEADLINE = "deadline"
    CATCH_UP = "catch-up"


@dataclass(slots=True)
class DueTick:
    tick: Tick
    trigger: Trigger


@dataclass(slots=True)
class MissedTick:
    tick: Tick
    reason: str


@dataclass(slots=True)
class Selection:
    """The outcome of looking at the due ticks once."""

    start: list[DueTick] = field(default_factory=list)
    excluded: list[Tick] = field(default_factory=list)
    missed: list[MissedTick] = field(default_factory=list)
    unscanned: bool = False
    """More backlog than SCAN_LIMIT: `missed` and `excluded` are lower bounds."""
    cursor: int | None = None
    """Nominal time of the newest due tick, when there was one."""


def newest_due(timeline: Timeline, at: float) -> Tick | None:
    """The newest tick whose fire time is at or before `at`."""
    tick = timeline.prev_tick(math.floor(at) + 1)
    # Jitter only ever delays a tick up to the next nominal time, so at most one
    # step back is needed; the loop states the invariant rather than relying on it.
    while tick is not None and tick.fire_at > at:
        tick = timeline.prev_tick(tick.nominal)
    return tick


def _newest_fired_before(timeline: Timeline, at: float) -> Tick | None:
    tick = timeline.prev_tick(math.ceil(at) + 1)
    while tick is not None and tick.fire_at >= at:
        tick = timeline.prev_tick(tick.nominal)
    return tick


def select_due(
    timeline: Timeline,
    *,
    cursor: int,
    now: float,
    resumed_at: float,
    catch_up: CatchUpPolicy,
    deadline: int | None,
) -> Selection:
    """Classify every tick after `cursor` whose fire time is at or before `now`."""
    selection = Selection()
    last = newest_due(timeline, now)
    if last is None or last.nominal <= cursor:
        return selection
    selection.cursor = last.nominal

    boundary = _newest_fired_before(timeline, min(resumed_at, now))
    backlog_end = boundary.nominal if boundary is not None and boundary.nominal > cursor else None

    on_time_from = backlog_end if backlog_end is not None else cursor
    on_time = _collect(timeline, on_time_from, last.nominal, selection)

    kept: list[Tick] = []
    if backlog_end is not None and boundary is not None:
        kept = _keep_from_backlog(timeline, boundary, cursor, catch_up, bool(on_time))
        _count_backlog(timeline, cursor, backlog_end, {t.nominal for t in kept}, selection)

    for tick in kept:
        _start_or_miss(selection, tick, Trigger.CATCH_UP, now, deadline)
    for tick in on_time:
        _start_or_miss(selection, tick, Trigger.SCHEDULE, now, deadline)
    return selection


def _collect(timeline: Timeline, after: int, until: int, selection: Selection) -> list[Tick]:
    """Non-excluded ticks in (after, until]; excluded ones are recorded as such."""
    found: list[Tick] = []
    for tick in timeline.ticks(after, until):
        if tick.excluded:
            selection.excluded.append(tick)
        else:
            found.append(tick)
    return found


def _keep_from_backlog(
    timeline: Timeline, newest: Tick, cursor: int, policy: CatchUpPolicy, on_time_due: bool
) -> list[Tick]:
    if policy is CatchUpPolicy.NONE:
        return []
    if policy is CatchUpPolicy.LATEST:
        return [] if on_time_due or newest.excluded else [newest]
    kept: list[Tick] = []
    tick: Tick | None = newest
    while tick is not None and tick.nominal > cursor and len(kept) < CATCH_UP_CAP:
        if not tick.excluded:
            kept.append(tick)
        tick = timeline.prev_tick(tick.nominal)
    kept.reverse()
    return kept


def _count_backlog(
    timeline: Timeline, cursor: int, until: int, kept: set[int], selection: Selection
) -> None:
    scanned = 0
    for tick in timeline.ticks(cursor, until):
        if scanned >= SCAN_LIMIT:
            selection.unscanned = True
            return
        scanned += 1
        if tick.nominal in kept:
            continue
        if tick.excluded:
            selection.excluded.append(tick)
        else:
            selection.missed.append(MissedTick(tick, MissReason.CATCH_UP))


def _start_or_miss(
    selection: Selection, tick: Tick, trigger: Trigger, now: float, deadline: int | None
) -> None:
    if deadline is not None and now > tick.fire_at + deadline:
        selection.missed.append(MissedTick(tick, MissReason.DEADLINE))
    else:
        selection.start.append(DueTick(tick, trigger))
