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
deadline, counted from its fire time. Excluded ticks are never started nor counted
missed. One pass examines at most SCAN_LIMIT ticks and starts at most START_CAP
on-time and CATCH_UP_CAP caught-up ones, whatever the backlog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kron.api import CatchUpPolicy, Trigger
from kron.planner.budget import Budget
from kron.schedule import Tick, Timeline

CATCH_UP_CAP = 100
"""Most backlog ticks `catchUpPolicy: All` starts after one outage."""

SCAN_LIMIT = 1_000
"""Most due ticks examined one by one in a pass, newest first: to start them, or to
count them missed or excluded. A per-second task down for a day has 86,400;
beyond this the counts are lower bounds."""

START_CAP = 100
"""Most on-time ticks one pass starts. More are due at once only when the task could
not be planned for a while (the dispatcher was stalled, or the task was held back
by a fault); the older ones are counted Missed (reason Overrun)."""


class MissReason:
    DEADLINE = "deadline"
    CATCH_UP = "catch-up"
    OVERRUN = "overrun"


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


def select_due(
    timeline: Timeline,
    *,
    cursor: int,
    now: float,
    resumed_at: float,
    catch_up: CatchUpPolicy,
    deadline: int | None,
    budget: Budget,
) -> Selection:
    """Classify the ticks after `cursor` whose fire time is at or before `now`.

    Walks back from the newest due tick, at most SCAN_LIMIT ticks (and within
    `budget`): the newest ticks are the ones that may still start. Older ticks
    beyond the walk are neither started nor counted (`unscanned`).
    """
    selection = Selection()
    last = newest_due(timeline, now)
    if last is None or last.nominal <= cursor:
        return selection
    selection.cursor = last.nominal
    backlog_from = min(resumed_at, now)
    on_time: list[Tick] = []
    kept: list[Tick] = []
    newest_backlog = True
    scanned = 0
    tick: Tick | None = last
    while tick is not None and tick.nominal > cursor:
        if scanned >= SCAN_LIMIT or not budget.spend():
            selection.unscanned = True
            break
        scanned += 1
        backlog = tick.fire_at < backlog_from
        if tick.excluded:
            # Excluded ticks neither run nor count as missed: `Latest` runs the most
            # recent backlog tick that is not excluded.
            selection.excluded.append(tick)
            tick = timeline.prev_tick(tick.nominal)
            continue
        if not backlog:
            if len(on_time) < START_CAP:
                on_time.append(tick)
            else:
                selection.missed.append(MissedTick(tick, MissReason.OVERRUN))
        elif _keep(catch_up, kept, newest=newest_backlog, on_time_due=bool(on_time)):
            kept.append(tick)
        else:
            selection.missed.append(MissedTick(tick, MissReason.CATCH_UP))
        if backlog:
            newest_backlog = False
        tick = timeline.prev_tick(tick.nominal)
    for kept_tick in reversed(kept):
        _start_or_miss(selection, kept_tick, Trigger.CATCH_UP, now, deadline)
    for due in reversed(on_time):
        _start_or_miss(selection, due, Trigger.SCHEDULE, now, deadline)
    return selection


def _keep(policy: CatchUpPolicy, kept: list[Tick], *, newest: bool, on_time_due: bool) -> bool:
    """Whether a backlog tick (not excluded) still starts under `policy`."""
    if policy is CatchUpPolicy.LATEST:
        return newest and not on_time_due
    if policy is CatchUpPolicy.ALL:
        return len(kept) < CATCH_UP_CAP
    return False


def _start_or_miss(
    selection: Selection, tick: Tick, trigger: Trigger, now: float, deadline: int | None
) -> None:
    if deadline is not None and now > tick.fire_at + deadline:
        selection.missed.append(MissedTick(tick, MissReason.DEADLINE))
    else:
        selection.start.append(DueTick(tick, trigger))
