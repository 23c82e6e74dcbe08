"""The imperative annotations: run-now, backfill and resume.

Each is driven by a value on the task (so `kubectl annotate` and GitOps can both
use it) and remembered in `status.handledRequests` once acted on, so re-applying
the same value never fires twice, even after the run it made was cleaned up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from kron.api import ConcurrencyPolicy, HandledRequests, RunResult, Trigger
from kron.api.constants import ANN_BACKFILL, ANN_RESUME, ANN_RUN_NOW
from kron.planner.context import Pass
from kron.planner.records import EventType
from kron.planner.timeutil import rfc3339, to_int_seconds, to_time
from kron.schedule import MAX_INSTANT, manual_run_name, run_name

FORCE_PREFIX = "force:"
BACKFILL_LIMIT = 1_000
"""Most ticks one backfill may hold; a typo in a year should not create a million Jobs."""
BACKFILL_BATCH = 50
"""Most backfill runs started in one pass under Allow; the pass after continues."""
SHOWN = 64
"""Characters of an annotation's value quoted in an Event."""


def token_digest(value: str) -> str:
    """What `status.handledRequests` keeps of an annotation's value: a digest, so that
    a 256 KiB token does not make a 256 KiB status."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _handled(value: str, remembered: str | None) -> bool:
    # Statuses written before digests were kept hold the value itself.
    return remembered is not None and remembered in (token_digest(value), value)


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN else value[: SHOWN - 1] + "\u2026")


def handled_all(annotations: Mapping[str, str], handled: object) -> bool:
    """Whether every imperative annotation on a task was acted on, per the task's
    `status.handledRequests` as stored (a dict), with no backfill in progress."""
    record = handled if isinstance(handled, dict) else {}
    if record.get("backfillCursor") is not None:
        return False
    for annotation, field in (
        (ANN_RUN_NOW, "runNow"),
        (ANN_RESUME, "resume"),
        (ANN_BACKFILL, "backfill"),
    ):
        value = annotations.get(annotation)
        remembered = record.get(field)
        if value and not (isinstance(remembered, str) and _handled(value, remembered)):
            return False
    return True


def handle_resume(p: Pass) -> None:
    token = p.task.annotations.get(ANN_RESUME)
    handled = p.status.handled_requests
    if not token or _handled(token, handled.resume):
        return
    handled.resume = token_digest(token)
    limit = p.spec.suspend_after_failures
    if limit is not None and p.status.consecutive_failures >= limit:
        p.status.consecutive_failures = 0
        p.event(
            EventType.NORMAL, "Resumed", f"Failure streak cleared by {ANN_RESUME}={_shown(token)}"
        )


def handle_run_now(p: Pass) -> None:
    token = p.task.annotations.get(ANN_RUN_NOW)
    handled = p.status.handled_requests
    if not token or _handled(token, handled.run_now):
        return
    handled.run_now = token_digest(token)
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
    """`<from>/<to>` in RFC 3339 between 1970 and 9998; raises ValueError with a
    one-line reason."""
    left, sep, right = value.partition("/")
    if not sep:
        raise ValueError("expected <from>/<to>, two RFC 3339 instants separated by '/'")
    try:
        start = datetime.fromisoformat(left.strip())
        end = datetime.fromisoformat(right.strip())
    except ValueError as err:
        raise ValueError(f"not an RFC 3339 instant: {str(err)[:SHOWN]}") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("instants need a UTC offset or Z")
    if end < start:
        raise ValueError("<to> is before <from>")
    first, last = to_int_seconds(start), to_int_seconds(end)
    if first < 0:
        raise ValueError("<from> is before 1970-01-01T00:00:00Z (run names carry Unix seconds)")
    return first, min(last, MAX_INSTANT - 1)


def handle_backfill(p: Pass) -> None:
    value = p.task.annotations.get(ANN_BACKFILL)
    handled = p.status.handled_requests
    # A new value is validated first; counting it may be deferred to a later pass.
    if value and not _handled(value, handled.backfill):
        if not p.task.look_ahead:
            p.plan.deferred = True  # counting backs off after running out of budget
            return
        if not _start_backfill(p, value):
            return
    _continue_backfill(p)


def _start_backfill(p: Pass, value: str) -> bool:
    """Validate a new backfill request; False when it is deferred to a later pass."""
    handled = p.status.handled_requests
    try:
        start, end = parse_interval(value)
    except ValueError as err:
        _forget_backfill(handled, value)
        p.event(EventType.WARNING, "InvalidBackfill", f"{ANN_BACKFILL}={_shown(value)}: {err}")
        return True
    count = 0
    for _ in p.timeline.ticks(start - 1, end):
        if not p.budget.spend():
            # Counting reached the pass's budget (time zone years not cached yet):
            # the next pass counts again, faster; nothing is decided until then.
            p.plan.deferred = True
            return False
        count += 1
        if count > BACKFILL_LIMIT:
            break
    _forget_backfill(handled, value)
    if count > BACKFILL_LIMIT:
        p.event(
            EventType.WARNING,
            "InvalidBackfill",
            f"{ANN_BACKFILL}={_shown(value)}: more than {BACKFILL_LIMIT} ticks; split it",
        )
        return True
    if count == 0:
        p.event(
            EventType.WARNING,
            "InvalidBackfill",
            f"{ANN_BACKFILL}={_shown(value)}: the schedule has no tick in that interval",
        )
        return True
    handled.backfill_start = to_time(start)
    handled.backfill_end = to_time(end)
    handled.backfill_cursor = to_time(start - 1)
    p.event(EventType.NORMAL, "Backfill", f"Backfilling {count} ticks of {_shown(value)}")
    return True


def _forget_backfill(handled: HandledRequests, value: str) -> None:
    handled.backfill = token_digest(value)
    handled.backfill_cursor = None
    handled.backfill_start = None
    handled.backfill_end = None


def _interval(handled: HandledRequests) -> tuple[int, int] | None:
    """The backfill in progress: from the status, or (statuses written before the
    interval was kept) from the value itself; None when neither reads."""
    if handled.backfill_start is not None and handled.backfill_end is not None:
        return to_int_seconds(handled.backfill_start), to_int_seconds(handled.backfill_end)
    try:
        return parse_interval(handled.backfill or "")
    except ValueError:
        return None


def _continue_backfill(p: Pass) -> None:
    handled = p.status.handled_requests
    if handled.backfill_cursor is None or handled.backfill is None:
        return
    interval = _interval(handled)
    if interval is None:
        handled.backfill_cursor = None
        return
    # Ticks the schedule itself has not reached yet are left to it.
    end = min(interval[1], p.cursor)
    cursor = to_int_seconds(handled.backfill_cursor)
    sequential = p.spec.concurrency_policy is not ConcurrencyPolicy.ALLOW
    started = 0
    for tick in p.timeline.ticks(cursor, end):
        blocked = (sequential and p.active) or p.at_capacity
        if started >= BACKFILL_BATCH or blocked or not p.budget.spend():
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
    handled.backfill_start = None
    handled.backfill_end = None
    p.event(
        EventType.NORMAL,
        "Backfilled",
        f"Backfill of {rfc3339(interval[0])}/{rfc3339(interval[1])} done",
    )


def backfill_waiting(p: Pass) -> bool:
    """More backfill to start as soon as the policy lets it (wake again soon). Held
    back by an active run (Forbid, Replace) or by the cap on active runs, it waits
    for a run's end instead, which arrives as an event."""
    if p.status.handled_requests.backfill_cursor is None or p.at_capacity:
        return False
    return not (p.spec.concurrency_policy is not ConcurrencyPolicy.ALLOW and p.active)
