"""A task's status stays under MAX_STATUS_BYTES whatever its runs and annotations say.

The largest status kron can write: every list at its bound, every message at its
limit, names and tokens at their longest. It is built through the planner, from
inputs a hostile tenant controls (failure messages, tokens, run names).
"""

from __future__ import annotations

import json

from kron.api import ActiveRun, PendingReason, PendingRun, RunKind, Trigger
from kron.api.constants import (
    MAX_ACTIVE_RUNS,
    MAX_HISTORY,
    MAX_MESSAGE_LENGTH,
    MAX_PENDING,
    MAX_STATUS_BYTES,
)
from kron.planner import CalendarState, CreateFailure, FailureKind, RunPhase, plan
from kron.planner.timeutil import to_time
from kron.schedule import DaySet, run_name
from support.planning import T0, run, spec, task

LONG = "n" * 52  # the longest task name
HUGE = "\u00e9\n" * 200_000  # two-byte characters and newlines: the worst to encode


# The longest calendar names, the most of them: restricted to every day, excluding none.
CALENDARS = [f"{i:02d}" + "c" * 251 for i in range(16)]
EVERY_DAY = {
    name: CalendarState(DaySet([(1, 3_652_059)] if i < 8 else []))
    for i, name in enumerate(CALENDARS)
}


def test_the_largest_status_stays_under_the_documented_size() -> None:
    s = spec(
        schedules=["* * * * * *"] * 16,
        retryPolicy={"maxRetries": 100, "stopAtNextSchedule": False},
        successfulRunsHistoryLimit=100,
        failedRunsHistoryLimit=100,
        successDeadlineSeconds=1,
        maxRuns=10**9,
        restrictToCalendars=CALENDARS[:8],
        excludeCalendars=CALENDARS[8:],
    )
    status = plan(task(s, created=T0 - 1, calendars=EVERY_DAY), T0 - 0.5).status
    names = [run_name(LONG, T0 - 10_000 + i, 99) for i in range(MAX_ACTIVE_RUNS)]
    runs = tuple(run(n, T0 - 10_000 + i, attempt=99) for i, n in enumerate(names))
    status.active = [
        ActiveRun(name=n, kind=RunKind.JOB, uid="u" * 36, scheduled_time=to_time(T0 - 10_000 + i))
        for i, n in enumerate(names)
    ]
    status.pending = [
        PendingRun(
            name=run_name(LONG, T0 - 20_000 + i, 99),
            scheduled_time=to_time(T0 - 20_000 + i),
            attempt=99,
            not_before=to_time(T0 + 10**6),
            not_after=to_time(T0 + 10**7),
            trigger=Trigger.RETRY,
            reason=PendingReason.RETRY,
        )
        for i in range(MAX_PENDING)
    ]
    failures = tuple(
        CreateFailure(
            run_name(LONG, T0 - 30_000 + i, 99),
            T0 - 30_000 + i,
            99,
            Trigger.RETRY,
            FailureKind.REJECTED,
            HUGE,
            T0,
        )
        for i in range(MAX_HISTORY * 2)
    )
    finished = tuple(
        run(n, T0 - 10_000 + i, attempt=99, phase=RunPhase.FAILED, finished=T0, message=HUGE)
        for i, n in enumerate(names[: MAX_HISTORY * 2])
    )
    annotations = {
        "kron.dev/run-now": HUGE,
        "kron.dev/resume": HUGE,
        "kron.dev/backfill": HUGE,
    }
    result = plan(
        task(
            s,
            status=status,
            runs=finished + runs[MAX_HISTORY * 2 :],
            failures=failures,
            annotations=annotations,
            name=LONG,
            calendars=EVERY_DAY,
        ),
        T0 + 0.5,
    )
    document = result.status.to_api()
    size = len(json.dumps(document, ensure_ascii=False).encode())
    assert len(document["history"]) == MAX_HISTORY
    assert all(len(h.get("message", "")) <= MAX_MESSAGE_LENGTH for h in document["history"])
    assert all(len(c["message"]) <= MAX_MESSAGE_LENGTH for c in document["conditions"])
    assert len(document["active"]) <= MAX_ACTIVE_RUNS
    assert len(document["pending"]) <= MAX_PENDING
    assert size <= MAX_STATUS_BYTES, size
    assert {c["type"] for c in document["conditions"]} == {
        "Ready",
        "Stalled",
        "Degraded",
        "Overdue",
    }
    ready = next(c for c in document["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "Scheduled"
