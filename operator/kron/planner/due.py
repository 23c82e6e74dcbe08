"""The schedule's own ticks in one pass: which start, which are missed or excluded.

`start_due` applies `kron.planner.ticks.select_due` to the pass (counts, history,
events, and the runs it admits through the concurrency policy) and moves the
cursor; `skip_held_backlog` records the ticks that passed while the task was
suspended or stopped by failures.
"""

from __future__ import annotations

from kron.api import CatchUpPolicy, ConcurrencyPolicy, RunResult, Trigger
from kron.api.constants import MAX_HISTORY
from kron.planner import overdue, runlimit
from kron.planner.conditions import Reason, ready_reason
from kron.planner.context import Pass
from kron.planner.records import EventType
from kron.planner.ticks import SCAN_LIMIT, START_CAP, MissReason, newest_due, select_due
from kron.planner.timeutil import rfc3339
from kron.schedule import run_name


def skip_held_backlog(p: Pass) -> None:
    """Ticks that passed while suspended (or stopped by failures) are skipped, not caught up."""
    last = newest_due(p.timeline, p.now)
    if last is None or last.nominal <= p.cursor:
        return
    count, complete = 0, False
    for _tick in p.timeline.ticks(p.cursor, last.nominal):
        if count >= SCAN_LIMIT or not p.budget.spend():
            break
        count += 1
    else:
        complete = True
    p.count("skipped", ready_reason(p.task.status) or Reason.SUSPENDED, count)
    more = "" if complete else "at least "
    p.history(
        RunResult.SKIPPED,
        last.nominal,
        trigger=Trigger.SCHEDULE,
        message=f"{more}{count} ticks passed while the task was held",
    )
    p.event(EventType.NORMAL, "Skipped", f"Skipped {more}{count} ticks that passed while suspended")
    p.cursor = last.nominal


def start_due(p: Pass) -> None:
    # Ticks due while the task could not be planned are a backlog none of which
    # starts: they are counted missed, with the reason it could not be planned.
    unplanned = p.unplanned is not None
    selection = select_due(
        p.timeline,
        cursor=p.cursor,
        now=p.now,
        resumed_at=p.now if unplanned else p.task.resumed_at,
        catch_up=CatchUpPolicy.NONE if unplanned else p.spec.catch_up_policy,
        deadline=p.spec.starting_deadline_seconds,
        budget=p.budget,
    )
    if selection.cursor is None:
        return
    more = "at least " if selection.unscanned else ""
    for tick in sorted(selection.excluded, key=lambda t: t.nominal):
        p.count("excluded", "Excluded")
        p.history(RunResult.EXCLUDED, tick.nominal, trigger=Trigger.SCHEDULE)
    if selection.excluded:
        p.event(
            EventType.NORMAL,
            "Skipped",
            f"Skipped {more}{len(selection.excluded)} excluded tick(s) "
            f"up to {rfc3339(max(t.nominal for t in selection.excluded))}",
        )
    if selection.missed:
        missed = sorted(selection.missed, key=lambda m: m.tick.nominal)
        for m in missed:
            p.count("missed", _tally(p, m.reason))
        for m in missed[-MAX_HISTORY:]:
            p.history(
                RunResult.MISSED,
                m.tick.nominal,
                trigger=Trigger.SCHEDULE,
                message=_why(p, m.reason),
            )
        p.event(
            EventType.WARNING,
            "Missed",
            f"Missed {more}{len(missed)} tick(s) from {rfc3339(missed[0].tick.nominal)} "
            f"to {rfc3339(missed[-1].tick.nominal)}",
        )
    overdue.note_due(p, [d.tick.fire_at for d in selection.start + selection.missed])
    starts = selection.start
    if p.spec.concurrency_policy is ConcurrencyPolicy.REPLACE and len(starts) > 1:
        # Starting several ticks in one pass only to replace each by the next is
        # pointless churn: the newest starts, the others are skipped.
        for due in starts[:-1]:
            p.count("skipped", "Replaced")
            p.history(
                RunResult.SKIPPED,
                due.tick.nominal,
                trigger=due.trigger,
                message="Replace: a newer tick was due in the same pass",
            )
        starts = starts[-1:]
    left = runlimit.left(p)
    if left is not None and len(starts) > left:
        for due in starts[left:]:
            p.count("skipped", "MaxRuns")
            p.history(
                RunResult.SKIPPED,
                due.tick.nominal,
                trigger=due.trigger,
                message=f"maxRuns={p.spec.max_runs}: the last allowed run started before it",
            )
        starts = starts[:left]
    for due in starts:
        name = run_name(p.task.name, due.tick.nominal)
        if name in p.runs:
            continue
        p.admit(
            name,
            due.tick.nominal,
            trigger=due.trigger,
            fire_at=due.tick.fire_at,
            expires_at=p.expiry(due.tick.fire_at, due.trigger),
        )
    p.cursor = selection.cursor


_MISS_TALLY = {
    MissReason.DEADLINE: "Deadline",
    MissReason.CATCH_UP: "CatchUp",
    MissReason.OVERRUN: "Overrun",
}


def _tally(p: Pass, reason: str) -> str:
    if reason == MissReason.CATCH_UP and p.unplanned is not None:
        return p.unplanned
    return _MISS_TALLY[reason]


def _why(p: Pass, reason: str) -> str:
    if reason == MissReason.CATCH_UP and p.unplanned is not None:
        return f"due while a Calendar of the task could not be used ({p.unplanned}); not caught up"
    if reason == MissReason.DEADLINE:
        return (
            f"could not start within startingDeadlineSeconds={p.spec.starting_deadline_seconds}"
            " of its fire time"
        )
    if reason == MissReason.OVERRUN:
        return f"more than {START_CAP} ticks were due at once; the newest started"
    return f"due while no replica was firing (catchUpPolicy {p.spec.catch_up_policy})"
