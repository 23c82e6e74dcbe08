"""Pending retries under `concurrencyPolicy: Replace`: which a newer tick supersedes.

Replace ends a running run when the next tick starts; a retry of an older tick that
started after a newer run exists would replace that newer run, so it is dropped (a
final failure under the retry's own name) instead.
"""

from __future__ import annotations

from kron.api import ConcurrencyPolicy, PendingReason, PendingRun, Trigger
from kron.planner.context import Pass
from kron.planner.finish import not_before
from kron.planner.records import COUNTED_TRIGGERS
from kron.planner.timeutil import to_int_seconds


def superseded(p: Pass, entry: PendingRun, newest: int | None) -> bool:
    """Under Replace, whether a pending retry is superseded by a newer scheduled run.

    A retry of the schedule's own tick (trigger `retry`) is superseded once a newer
    tick's run exists: starting it would replace the newer run. This also keeps a
    retry that Replace already deleted from running again when the status that
    recorded its start was lost. Retries of manual and backfill runs are not part of
    the schedule's stream (their nominal times say nothing about it) and survive;
    only a scheduled run created after such a retry was due (which Replace would have
    made end it, had the lost status started it) supersedes it.
    """
    if newest is None or entry.reason is not PendingReason.RETRY:
        return False
    if entry.trigger is Trigger.RETRY:
        return to_int_seconds(entry.scheduled_time) < newest
    due = not_before(entry, p.now)
    return any(
        run.created is not None and run.created > due
        for run in p.runs.values()
        if run.trigger in COUNTED_TRIGGERS and run.attempt == 0 and not run.in_flight
    )


def newest_started(p: Pass) -> int | None:
    """Under Replace, the newest tick whose own run exists or starts in this pass."""
    if p.spec.concurrency_policy is not ConcurrencyPolicy.REPLACE:
        return None
    started = [
        run.nominal
        for run in (*p.runs.values(), *p.active.values())
        if run.trigger in COUNTED_TRIGGERS and run.attempt == 0
    ]
    return max(started, default=None)
