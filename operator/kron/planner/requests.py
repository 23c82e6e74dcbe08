"""The imperative annotations: run-now, backfill and resume.

Each is driven by a value on the task (so `kubectl annotate` and GitOps can both
use it) and remembered in `status.handledRequests` once acted on, so re-applying
the same value never fires twice, even after the run it made was cleaned up.
"""

from __future__ import annotations

from datetime import datetime

from kron.api import ConcurrencyPolicy, RunResult, Trigger
from kron.api.constants import ANN_BACKFILL, ANN_RESUME, ANN_RUN_NOW
from kron.planner.context import Pass
from kron.planner.records import EventType
from kron.planner.timeutil import to_int_seconds, to_time
from kron.schedule import manual_run_name, run_name

FORCE_PREFIX = "force:"
BACKFILL_LIMIT = 1_000
"""Most ticks one backfill may hold; a typo in a year should not create a million Jobs."""
BACKFILL_BATCH = 50
"""Most backfill runs started in one pass under Allow; the pass after continues."""


def handle_resume(p: Pass) -> None:
    token = p.task.annotations.get(ANN_RESUME)
    handled = p.status.handled_requests
    if not token or token == handled.resume:
        return
    handled.resume = token
    limit = p.spec.suspend_after_failures
    if limit is not None and p.status.consecutive_failures >= limit:
        p.status.consecutive_failures = 0
        p.event(EventType.NORMAL, "Resumed", f"Failure streak cleared by {ANN_RESUME}={token}")


def handle_run_now(p: Pass) -> None:
    token = p.task.annotations.get(ANN_RUN_NOW)
    handled = p.status.handled_requests
    if not token or token == handled.run_now:
        return
    handled.run_now = token
    name = manual_run_name(p.task.name, token)
    if name in p.runs:
        return
    p.admit(
        name,
        p.now_int,
        trigger=Trigger.MANUAL,
        fire_at=p.now,
        expires_at=None,
        force=token.startswith(FORCE_PREFIX),
    )


def parse_interval(value: str) -> tuple[int, int]:
    """`<from>/<to>` in RFC 3339; raises ValueError with a one-line reason."""
    left, sep, right = value.partition("/")
    if not sep:
        raise ValueError("expected <from>/<to>, two RFC 3339 instants separated by '/'")
    try:
        start = datetime.fromisoformat(left.strip())
        end = datetime.fromisoformat(right.strip())
    except ValueError as err:
        raise ValueError(f"not an RFC 3339 instant: {err}") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("instants need a UTC offset or Z")
    if end < start:
        raise ValueError("<to> is before <from>")
    return to_int_seconds(start), to_int_seconds(end)


def handle_backfill(p: Pass) -> None:
    value = p.task.annotations.get(ANN_BACKFILL)
    handled = p.status.handled_requests
    if value and value != handled.backfill:
        handled.backfill = value
        handled.backfill_cursor = None
        try:
            start, end = parse_interval(value)
        except ValueError as err:
            p.event(EventType.WARNING, "InvalidBackfill", f"{ANN_BACKFILL}={value!r}: {err}")
            return
        count = sum(
            1
            for _ in zip(range(BACKFILL_LIMIT + 1), p.timeline.ticks(start - 1, end), strict=False)
        )
        if count > BACKFILL_LIMIT:
            p.event(
                EventType.WARNING,
                "InvalidBackfill",
                f"{ANN_BACKFILL}={value!r}: more than {BACKFILL_LIMIT} ticks; split it",
            )
            return
        handled.backfill_cursor = to_time(start - 1)
        p.event(EventType.NORMAL, "Backfill", f"Backfilling {count} ticks of {value}")
    _continue_backfill(p)


def _continue_backfill(p: Pass) -> None:
    handled = p.status.handled_requests
    if handled.backfill_cursor is None or handled.backfill is None:
        return
    _, end = parse_interval(handled.backfill)
    # Ticks the schedule itself has not reached yet are left to it.
    end = min(end, p.cursor)
    cursor = to_int_seconds(handled.backfill_cursor)
    sequential = p.spec.concurrency_policy is not ConcurrencyPolicy.ALLOW
    started = 0
    for tick in p.timeline.ticks(cursor, end):
        if started >= BACKFILL_BATCH or (sequential and p.active):
            handled.backfill_cursor = to_time(cursor)
            return
        cursor = tick.nominal
        if tick.excluded:
            p.count("excluded", "Excluded")
            p.history(RunResult.EXCLUDED, tick.nominal, trigger=Trigger.BACKFILL)
            continue
        name = run_name(p.task.name, tick.nominal)
        if name in p.runs:
            continue
        p.create(
            name, tick.nominal, attempt=0, trigger=Trigger.BACKFILL, fire_at=p.now, expires_at=None
        )
        started += 1
    handled.backfill_cursor = None
    p.event(EventType.NORMAL, "Backfilled", f"Backfill {handled.backfill} done")


def backfill_waiting(p: Pass) -> bool:
    """More backfill to start as soon as the policy lets it (wake again soon)."""
    return p.status.handled_requests.backfill_cursor is not None and not (
        p.spec.concurrency_policy is not ConcurrencyPolicy.ALLOW and p.active
    )
