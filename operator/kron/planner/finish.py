"""The end of a planning pass: what the status shows and when to look again.

Active runs, the upcoming fire times (as many as `maxRuns` still allows), the Ready
and Stalled conditions (Scheduled, Suspended, Completed, TooManyFailures), Degraded's
initial value, and the wake time: the next tick, the next pending deadline or
backoff, more backfill, or the instant the task becomes overdue.
"""

from __future__ import annotations

from kron.api import ActiveRun, ConditionStatus, PendingRun
from kron.api.constants import MAX_UPCOMING
from kron.planner import requests, runlimit
from kron.planner.conditions import (
    DEGRADED,
    READY,
    STALLED,
    Reason,
    get_condition,
    set_condition,
)
from kron.planner.context import Pass
from kron.planner.timelines import upcoming_key
from kron.planner.timeutil import to_time
from kron.schedule import UPCOMING_EXCLUDED_SPAN, UPCOMING_SCAN_LIMIT, LookAhead

BEYOND_LOOK_AHEAD = (
    "schedule is valid, but its exclusions and Calendars exclude every tick kron's "
    f"look-ahead reached ({UPCOMING_SCAN_LIMIT:,} steps, or "
    f"{UPCOMING_EXCLUDED_SPAN // (366 * 86_400)} years of excluded ticks): no fire time "
    "is shown; each tick is still evaluated when it comes"
)
"""Ready's message when the look-ahead ended on its bound without a fire time."""
DEFER_SECONDS = 1.0
"""Pause before a pass continues work its predecessor's budget cut short."""


def not_before(entry: PendingRun, now: float) -> float:
    """When a pending entry may start (now when it has no backoff)."""
    return entry.not_before.timestamp() if entry.not_before is not None else now


def finish(p: Pass, held: str | None) -> None:
    """Active runs, upcoming times, conditions and the wake time at the end of a pass."""
    status, spec = p.status, p.spec
    status.active = [
        ActiveRun(
            name=run.name,
            kind=run.kind,
            uid=run.uid or None,
            scheduled_time=to_time(run.nominal),
            attempt=run.attempt,
        )
        for run in sorted(p.active.values(), key=lambda r: (r.nominal, r.name))
    ]
    left = runlimit.left(p)
    nxt = None if held or left == 0 else p.timeline.next_tick(p.cursor)
    completed = (
        held is None
        and nxt is None
        and not p.active
        and not status.pending
        and status.handled_requests.backfill_cursor is None
    )
    beyond_bound = _upcoming(p, held, left)
    upcoming_times = status.upcoming_schedule_times
    status.next_schedule_time = upcoming_times[0] if upcoming_times else None
    status.schedule_summary = spec.schedule_summary()

    now, gen = to_time(p.now), p.task.generation
    if held == Reason.TOO_MANY_FAILURES:
        set_condition(
            status,
            READY,
            ConditionStatus.FALSE,
            Reason.TOO_MANY_FAILURES,
            f"{status.consecutive_failures} consecutive runs failed "
            f"(suspendAfterFailures={spec.suspend_after_failures}); change the spec or set "
            "a new kron.dev/resume value to fire again",
            now=now,
            generation=gen,
        )
    elif held == Reason.SUSPENDED:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.SUSPENDED,
            "spec.suspend is true",
            now=now,
            generation=gen,
        )
    elif completed:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.COMPLETED,
            "no fire times remain"
            if left != 0
            else f"maxRuns={spec.max_runs} scheduled runs have started; none remain",
            now=now,
            generation=gen,
        )
    else:
        set_condition(
            status,
            READY,
            ConditionStatus.TRUE,
            Reason.SCHEDULED,
            BEYOND_LOOK_AHEAD
            if beyond_bound
            else "schedule is valid; the next fire time is in status.nextScheduleTime",
            now=now,
            generation=gen,
        )
    stalled = held == Reason.TOO_MANY_FAILURES
    set_condition(
        status,
        STALLED,
        ConditionStatus.TRUE if stalled else ConditionStatus.FALSE,
        Reason.TOO_MANY_FAILURES if stalled else Reason.FIRING,
        "stopped until the spec changes or kron.dev/resume gets a new value"
        if stalled
        else "the schedule is being followed",
        now=now,
        generation=gen,
    )
    if get_condition(status, DEGRADED) is None:
        set_condition(
            status,
            DEGRADED,
            ConditionStatus.FALSE,
            Reason.RUN_SUCCEEDED,
            "no run has failed",
            now=now,
            generation=gen,
        )

    wakes: list[float] = []
    if nxt is not None:
        wakes.append(nxt.fire_at)
    for entry in status.pending:
        if entry.not_after is not None:
            wakes.append(entry.not_after.timestamp())
        # A pending entry whose time came but which waits for an active run needs
        # no timer: that run's completion arrives as an event.
        if held is None and not_before(entry, p.now) > p.now:
            wakes.append(not_before(entry, p.now))
    if requests.backfill_waiting(p):
        wakes.append(p.now)
    if p.overdue_at is not None:
        wakes.append(p.overdue_at)
    if p.plan.deferred:
        wakes.append(p.now + DEFER_SECONDS)  # the engine backs off further if it recurs
    p.plan.wake_at = min(wakes) if wakes else None


def _upcoming(p: Pass, held: str | None, left: int | None) -> bool:
    """Set `status.upcomingScheduleTimes`; True when the look-ahead ended on its bound
    without finding a fire time."""
    count = MAX_UPCOMING if left is None else min(MAX_UPCOMING, left)
    beyond_bound = False
    status, spec = p.status, p.spec
    key = upcoming_key(spec, p.task.calendars)
    if held or count == 0:
        status.upcoming_schedule_times = []
        status.upcoming_for = None  # computed afresh once the task fires again
    elif p.task.look_ahead or status.upcoming_for != key:
        # Computed whenever the look-ahead is not backing off, and whatever it does
        # when the list was computed for other schedule fields or Calendar days.
        look = p.timeline.look_ahead(p.cursor, count, stop=p.budget.out_of_time)
        if p.budget.exhausted:
            p.plan.deferred = True  # a later pass, with warmer caches, completes the list
        status.upcoming_schedule_times = [to_time(t.fire_at) for t in look.ticks]
        status.upcoming_for = key
        beyond_bound = look.ended == LookAhead.BOUND and not look.ticks
    else:
        # Backing off with the same plan: the list computed for it, less the fire
        # times that came (their ticks are behind the cursor now), is still right.
        status.upcoming_schedule_times = [
            t for t in status.upcoming_schedule_times if t.timestamp() > p.now
        ][:count]
        before = get_condition(p.task.status, READY)
        beyond_bound = before is not None and before.message == BEYOND_LOOK_AHEAD
    return beyond_bound
