"""`maxRuns`: a task completes after N scheduled runs, counted exactly across restarts.

What counts is a tick of the schedule that started a run: trigger `schedule` or
`catch-up`, attempt 0 (a retry is the same run; manual and backfill runs do not
count). The count lives in `status.scheduledRuns`, but a status write can be lost
in a crash, so it is never trusted alone: it counts only runs the API server has
confirmed, up to `status.scheduledRunsThrough`, and every pass adds the confirmed
scheduled runs newer than that which exist. Runs are the durable record here too:
kron deletes a run (history cleanup) only after the status recording it was
written, so a run that is gone was counted in a status that persisted. Replace
deletes at once, before the status counting the replaced run may be written; so
every counted run carries its number in the count (`kron.dev/scheduled-run`), and
the count is at least the number of any run that exists: a replaced run lost with
its status is known from the run that replaced it.

Scheduled ticks start in nominal order, but their creates may be confirmed out of
order; the count therefore advances only up to the oldest create still in flight.
While runs are in flight (not yet confirmed, or confirmed past that point) they are
counted as used, so a pass never starts more than the limit allows.

The count starts when maxRuns is set (a new task: at its creation; an existing one:
runs before are not counted). Removing maxRuns forgets it; changing it keeps it.
"""

from __future__ import annotations

from kron.planner.context import Pass
from kron.planner.records import COUNTED_TRIGGERS, ObservedRun
from kron.planner.timeutil import to_int_seconds, to_time


def _scheduled(run: ObservedRun) -> bool:
    return run.trigger in COUNTED_TRIGGERS and run.attempt == 0


def count_confirmed(p: Pass) -> None:
    """Bring `status.scheduledRuns` up to date with the confirmed runs that exist."""
    status, limit = p.status, p.spec.max_runs
    if limit is None:
        status.scheduled_runs = None
        status.scheduled_runs_through = None
        return
    if status.scheduled_runs is None or status.scheduled_runs_through is None:
        status.scheduled_runs = 0
        status.scheduled_runs_through = to_time(p.cursor)
        return
    through = to_int_seconds(status.scheduled_runs_through)
    runs = [r for r in p.task.runs if _scheduled(r) and r.nominal > through]
    in_flight = [r.nominal for r in runs if r.in_flight]
    stop = min(in_flight) if in_flight else None
    numbers: dict[int, int] = {}
    for r in runs:
        if not r.in_flight:
            numbers[r.nominal] = max(numbers.get(r.nominal, 0), r.scheduled_run or 0)
    for nominal in sorted(numbers):
        if stop is not None and nominal > stop:
            break
        # A run's own number covers runs before it that are gone uncounted.
        status.scheduled_runs = max(status.scheduled_runs + 1, numbers[nominal])
        through = nominal
    status.scheduled_runs_through = to_time(through)


def used(p: Pass) -> int:
    """Scheduled runs started: counted, plus those started but not counted yet
    (in flight, confirmed after one in flight, or created in this pass)."""
    return p.scheduled_runs_used()


def left(p: Pass) -> int | None:
    """Scheduled runs maxRuns still allows (None: no limit)."""
    if p.spec.max_runs is None:
        return None
    return max(0, p.spec.max_runs - used(p))


def reached(p: Pass) -> bool:
    """maxRuns scheduled runs have started: no more ticks start."""
    return left(p) == 0
