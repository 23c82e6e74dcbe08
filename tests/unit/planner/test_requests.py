"""Planner: the run-now, backfill and resume annotations."""

from __future__ import annotations

from kron.api import Trigger
from kron.api.constants import MAX_ACTIVE_RUNS
from kron.planner import RunPhase, plan
from kron.planner.requests import BACKFILL_BATCH, token_digest
from kron.planner.timeutil import to_time
from kron.schedule import manual_run_name
from support.planning import T0, run, spec, task


def iso(seconds: int) -> str:
    return to_time(seconds).isoformat().replace("+00:00", "Z")


def test_run_now_fires_one_manual_run_per_token() -> None:
    s = spec(schedule="0 0 1 6 *")
    first = plan(task(s, annotations={"kron.dev/run-now": "deploy-42"}), T0 + 10.25)
    assert [(c.name, c.trigger) for c in first.creates] == [
        (manual_run_name("report", "deploy-42"), Trigger.MANUAL)
    ]
    assert first.status.handled_requests.run_now == token_digest("deploy-42")
    again = plan(
        task(s, status=first.status, annotations={"kron.dev/run-now": "deploy-42"}), T0 + 20
    )
    assert again.creates == []


def test_run_now_is_skipped_under_forbid_unless_forced() -> None:
    s = spec(concurrencyPolicy="Forbid")
    base = plan(task(s), T0 + 0.1)
    active = (run(f"report-{T0}", T0),)
    held = plan(
        task(s, status=base.status, runs=active, annotations={"kron.dev/run-now": "a"}), T0 + 5
    )
    assert held.creates == []
    assert held.status.counts.skipped == 1
    forced = plan(
        task(s, status=held.status, runs=active, annotations={"kron.dev/run-now": "force:b"}),
        T0 + 6,
    )
    assert [c.trigger for c in forced.creates] == [Trigger.MANUAL]


def test_run_now_is_queued_under_queue_and_keeps_its_name() -> None:
    s = spec(concurrencyPolicy="Queue")
    base = plan(task(s), T0 + 0.1)
    active = (run(f"report-{T0}", T0),)
    ann = {"kron.dev/run-now": "q"}
    queued = plan(task(s, status=base.status, runs=active, annotations=ann), T0 + 5)
    assert queued.creates == []
    done = (run(f"report-{T0}", T0, phase=RunPhase.SUCCEEDED, finished=T0 + 8),)
    started = plan(task(s, status=queued.status, runs=done, annotations=ann), T0 + 8.1)
    assert [c.name for c in started.creates] == [manual_run_name("report", "q")]


def test_backfill_fires_every_tick_of_the_interval_oldest_first() -> None:
    s = spec(schedule="0 * * * *")
    ann = {"kron.dev/backfill": f"{iso(T0 - 3 * 3600)}/{iso(T0 - 3600)}"}
    result = plan(task(s, annotations=ann, created=T0 - 30), T0 - 10)
    assert [(c.nominal, c.trigger) for c in result.creates] == [
        (T0 - 3 * 3600, Trigger.BACKFILL),
        (T0 - 2 * 3600, Trigger.BACKFILL),
        (T0 - 3600, Trigger.BACKFILL),
    ]
    assert result.status.handled_requests.backfill_cursor is None
    again = plan(task(s, status=result.status, annotations=ann, created=T0 - 30), T0 - 5)
    assert again.creates == []


def test_backfill_goes_one_run_at_a_time_under_forbid() -> None:
    s = spec(schedule="0 * * * *", concurrencyPolicy="Forbid")
    ann = {"kron.dev/backfill": f"{iso(T0 - 2 * 3600)}/{iso(T0 - 3600)}"}
    first = plan(task(s, annotations=ann), T0 - 10)
    assert [c.nominal for c in first.creates] == [T0 - 2 * 3600]
    busy = (run(f"report-{T0 - 7200}", T0 - 7200, trigger=Trigger.BACKFILL),)
    waiting = plan(task(s, status=first.status, runs=busy, annotations=ann), T0 - 9)
    assert waiting.creates == []
    done = (
        run(
            f"report-{T0 - 7200}",
            T0 - 7200,
            trigger=Trigger.BACKFILL,
            phase=RunPhase.SUCCEEDED,
            finished=T0 - 8,
        ),
    )
    second = plan(task(s, status=waiting.status, runs=done, annotations=ann), T0 - 7)
    assert [c.nominal for c in second.creates] == [T0 - 3600]


def backfilled(creates):  # type: ignore[no-untyped-def]
    return [c.nominal for c in creates if c.trigger is Trigger.BACKFILL]


def test_large_backfill_continues_in_batches() -> None:
    s = spec(schedule="* * * * * *")
    ann = {"kron.dev/backfill": f"{iso(T0 - 200)}/{iso(T0 - 101)}"}
    first = plan(task(s, annotations=ann), T0 - 0.5)
    assert backfilled(first.creates) == list(range(T0 - 200, T0 - 150))
    assert len(backfilled(first.creates)) == BACKFILL_BATCH
    assert first.wake_at == T0 - 0.5  # continue at once
    second = plan(task(s, status=first.status, annotations=ann), T0 - 0.5)
    assert backfilled(second.creates) == list(range(T0 - 150, T0 - 100))


def test_invalid_backfill_value_is_reported_once() -> None:
    ann = {"kron.dev/backfill": "yesterday"}
    result = plan(task(spec(), annotations=ann), T0 - 10)
    assert result.creates == []
    assert [e.reason for e in result.events] == ["InvalidBackfill"]
    again = plan(task(spec(), status=result.status, annotations=ann), T0 - 5)
    assert again.events == []


def test_backfill_of_more_than_the_limit_is_refused() -> None:
    ann = {"kron.dev/backfill": f"{iso(T0 - 86400)}/{iso(T0 - 1)}"}
    result = plan(task(spec(schedule="* * * * * *"), annotations=ann), T0 - 0.5)
    assert backfilled(result.creates) == []
    assert "more than" in result.events[0].message


def test_a_status_written_before_digests_still_remembers_its_token() -> None:
    s = spec(schedule="0 0 1 6 *")
    status = plan(task(s), T0).status
    status.handled_requests.run_now = "deploy-42"  # as an older kron stored it
    again = plan(task(s, status=status, annotations={"kron.dev/run-now": "deploy-42"}), T0 + 1)
    assert again.creates == []


def test_a_huge_token_is_kept_as_a_short_digest() -> None:
    s = spec(schedule="0 0 1 6 *")
    token = "x" * 200_000
    result = plan(task(s, annotations={"kron.dev/run-now": token}), T0)
    assert len(result.creates) == 1
    assert result.status.handled_requests.run_now == token_digest(token)
    assert len(result.status.model_dump_json()) < 4_000
    assert all(len(e.message) < 1_100 for e in result.events)


def test_a_backfill_held_by_the_cap_on_active_runs_waits_for_a_run_to_end() -> None:
    """Under Allow a backfill starts runs until MAX_ACTIVE_RUNS are active; then it must
    not ask to be planned again at once (it made no progress: the engine would plan it
    over and over), only when a run ends, which arrives as an event."""
    s = spec(schedule="0 * * * *", concurrencyPolicy="Allow")
    ann = {"kron.dev/backfill": f"{iso(T0 - 300 * 3600)}/{iso(T0 - 3600)}"}
    active = tuple(
        run(f"report-{T0 - h * 3600}", T0 - h * 3600, trigger=Trigger.BACKFILL)
        for h in range(200, 200 + MAX_ACTIVE_RUNS)
    )
    first = plan(task(s, annotations=ann), T0 - 10)
    held = plan(task(s, status=first.status, runs=active, annotations=ann), T0 - 9)
    assert backfilled(held.creates) == []
    assert held.status.handled_requests.backfill_cursor is not None  # more to come
    assert held.wake_at is None or held.wake_at > T0 - 9
