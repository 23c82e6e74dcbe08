"""What one task may cost: no backlog after a fix, saturating times, bounded work."""

from __future__ import annotations

from datetime import UTC, datetime

from kron.api import ScheduledTaskStatus
from kron.planner import invalid_plan, plan
from kron.planner.timeutil import EARLIEST, LATEST, to_time
from support.planning import T0, spec, task


def test_fixing_an_invalid_task_never_fires_the_ticks_before_the_fix() -> None:
    """A per-second task that was invalid for a day starts from the fix, not from its birth."""
    created = T0 - 86_400
    broken = invalid_plan(ScheduledTaskStatus(), 1, "InvalidSpec", "spec.x: bad", created).status
    fixed = plan(
        task(spec(schedule="* * * * * *"), status=broken, created=created, generation=2), T0
    )
    assert fixed.creates == []
    assert fixed.status.counts.missed == 0
    assert fixed.wake_at == T0 + 1
    after = plan(task(spec(schedule="* * * * * *"), status=fixed.status, generation=2), T0 + 1)
    assert [c.nominal for c in after.creates] == [T0 + 1]


def test_times_beyond_what_a_datetime_holds_saturate() -> None:
    assert to_time(-1e30) == EARLIEST
    assert to_time(float("nan")) == EARLIEST
    assert to_time(1e30) == LATEST
    assert to_time(253_402_318_799) == LATEST
    assert to_time(0.0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_a_queued_tick_with_the_longest_deadline_plans() -> None:
    s = spec(schedule="* * * * *", concurrencyPolicy="Queue", startingDeadlineSeconds=316_224_000)
    first = plan(task(s), T0)
    assert len(first.creates) == 1
