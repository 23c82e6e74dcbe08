"""What happened to runs since the last pass: finished, vanished, failed to create.

A run is accounted for exactly once: when it leaves `status.active`. Success
resets the failure streak; a failure either schedules a schedule-level retry
(`retryPolicy`) or, once retries are exhausted, counts towards
`suspendAfterFailures` and marks the task Degraded.
"""

from __future__ import annotations

from kron.api import ConditionStatus, PendingReason, PendingRun, RetryPolicy, RunResult, Trigger
from kron.api.constants import MAX_PENDING
from kron.planner.conditions import Reason
from kron.planner.context import Pass
from kron.planner.records import (
    COUNTED_TRIGGERS,
    SCHEDULED_TRIGGERS,
    EventType,
    FailureKind,
    ObservedRun,
    RunPhase,
)
from kron.planner.timeutil import rfc3339, to_time
from kron.schedule import manual_retry_name, run_name


def retryable(policy: RetryPolicy, trigger: Trigger) -> bool:
    """Whether a failed run of `trigger` is retried under `policy` (manual runs unless
    `retryManualRuns: false`; every other trigger always)."""
    return trigger is not Trigger.MANUAL or policy.retry_manual_runs is not False


def retry_trigger(trigger: Trigger) -> Trigger:
    return Trigger.RETRY if trigger in SCHEDULED_TRIGGERS else trigger


def retry_name(task: str, failed: ObservedRun, attempt: int) -> str | None:
    """The name retry `attempt` of `failed` gets when it is not `<task>-<nominal>-r<n>`."""
    if failed.trigger is Trigger.MANUAL:
        return manual_retry_name(task, failed.name, attempt)
    return None


def retried_name(task: str, entry: PendingRun) -> str:
    """The run whose failure the pending retry `entry` was for."""
    nominal = int(entry.scheduled_time.timestamp())
    if entry.trigger is Trigger.MANUAL and entry.name is not None:
        return manual_retry_name(task, entry.name, entry.attempt - 1)
    return run_name(task, nominal, entry.attempt - 1)


def absorb_create_failures(p: Pass) -> set[str]:
    """Record the executor's failures; returns the run names they concern."""
    names: set[str] = set()
    for failure in p.task.failures:
        names.add(failure.name)
        p.active.pop(failure.name, None)
        if failure.kind is FailureKind.EXPIRED:
            p.count("missed", "CreateExpired")
            p.history(
                RunResult.MISSED,
                failure.nominal,
                trigger=failure.trigger,
                name=failure.name,
                attempt=failure.attempt,
                message=f"not created in time: {failure.message}",
            )
            p.event(
                EventType.WARNING,
                "Missed",
                f"Run {failure.name} could not be created before its deadline: {failure.message}",
            )
        elif failure.kind is FailureKind.CONFLICT:
            p.count("failed", "RunFailed")
            p.history(
                RunResult.FAILED,
                failure.nominal,
                trigger=failure.trigger,
                name=failure.name,
                message=failure.message,
            )
            p.degraded(ConditionStatus.TRUE, Reason.NAME_CONFLICT, failure.message)
            p.event(EventType.WARNING, "Failed", failure.message)
        else:
            p.count("failed", "RunFailed")
            p.history(
                RunResult.FAILED,
                failure.nominal,
                trigger=failure.trigger,
                name=failure.name,
                attempt=failure.attempt,
                finished=failure.at,
                message=f"create rejected: {failure.message}",
            )
            # Retrying a create the API server refused would fail the same way.
            final_failure(
                p, failure.name, f"the API server refused the run: {failure.message}", at=failure.at
            )
    return names


def absorb_finished(p: Pass, already_recorded: set[str]) -> None:
    """Account for every run that was active at the last pass and no longer is."""
    for entry in list(p.status.active):
        if entry.name in already_recorded:
            continue
        run = p.runs.get(entry.name)
        if run is not None and run.phase is RunPhase.ACTIVE and not run.deleting:
            continue
        if run is None or (run.deleting and run.phase is RunPhase.ACTIVE):
            nominal = int(entry.scheduled_time.timestamp())
            trigger = run.trigger if run is not None else Trigger.SCHEDULE
            p.count("failed", "RunFailed")
            p.history(
                RunResult.FAILED,
                nominal,
                trigger=trigger,
                name=entry.name,
                attempt=entry.attempt,
                finished=p.now,
                message="deleted before it finished",
            )
            continue
        if run.phase is RunPhase.SUCCEEDED:
            _succeeded(p, run)
        else:
            _failed(p, run)
    _absorb_unrecorded(p, already_recorded | {entry.name for entry in p.status.active})


def _absorb_unrecorded(p: Pass, recorded: set[str]) -> None:
    """Account for finished runs the task's status never listed as active.

    A leader gathers a task's progress into one status write a few seconds later
    (`--status-interval`); if it stops before that write, the next leader finds runs
    its status does not know. A tick's first run is recognisable: its nominal time
    lies after the status's cursor, which every pass that creates a run moves. Such
    a run is counted, recorded and can mark the task Degraded, but is not retried.
    """
    cursor = p.task.status.last_schedule_time
    if cursor is None:
        return
    after = cursor.timestamp()
    for run in sorted(p.task.runs, key=lambda r: (r.nominal, r.name)):
        if (
            run.name in recorded
            or run.trigger not in COUNTED_TRIGGERS
            or run.attempt != 0
            or run.in_flight
            or run.phase is RunPhase.ACTIVE
            or run.nominal <= after
        ):
            continue
        if run.phase is RunPhase.SUCCEEDED:
            _succeeded(p, run)
        else:
            # Counted and reported, not retried: a retry the lost status had already
            # started (and Replace since deleted) would run twice.
            _failed(p, run, may_retry=False)


def _succeeded(p: Pass, run: ObservedRun) -> None:
    finished = run.finished if run.finished is not None else p.now
    p.count("succeeded", "RunSucceeded")
    p.status.last_successful_time = to_time(finished)
    p.status.consecutive_failures = 0
    p.record_run(RunResult.SUCCEEDED, run, finished=finished, message=run.message)
    p.degraded(ConditionStatus.FALSE, Reason.RUN_SUCCEEDED, f"last run {run.name} succeeded")
    p.event(EventType.NORMAL, "Succeeded", f"Run {run.name} succeeded")


def _failed(p: Pass, run: ObservedRun, *, may_retry: bool = True) -> None:
    finished = run.finished if run.finished is not None else p.now
    p.count("failed", "RunFailed")
    p.record_run(RunResult.FAILED, run, finished=finished, message=run.message)
    policy = p.spec.retry_policy
    if (
        may_retry
        and policy is not None
        and retryable(policy, run.trigger)
        and run.attempt < policy.max_retries
    ):
        if len(p.status.pending) >= MAX_PENDING:
            message = f"{run.message or 'failed'} (no retry: {MAX_PENDING} ticks are pending)"
            final_failure(p, run.name, message, at=finished)
            return
        not_before = finished + policy.backoff.delay_seconds(run.attempt + 1)
        not_after = _retry_limit(p, run) if policy.stop_at_next_schedule else None
        if not_after is None or not_before < not_after:
            p.status.pending.append(
                PendingRun(
                    name=retry_name(p.task.name, run, run.attempt + 1),
                    scheduled_time=to_time(run.nominal),
                    attempt=run.attempt + 1,
                    not_before=to_time(not_before),
                    not_after=to_time(not_after) if not_after is not None else None,
                    trigger=retry_trigger(run.trigger),
                    reason=PendingReason.RETRY,
                )
            )
            p.event(
                EventType.WARNING,
                "Retrying",
                f"Run {run.name} failed ({run.message or 'no message'}); retry "
                f"{run.attempt + 1}/{policy.max_retries} not before {rfc3339(not_before)}",
            )
            return
        message = f"{run.message or 'failed'} (no retry: the next scheduled tick comes first)"
        final_failure(p, run.name, message, at=finished)
        return
    final_failure(p, run.name, run.message or "failed", at=finished)


def _retry_limit(p: Pass, run: ObservedRun) -> float | None:
    """`stopAtNextSchedule`: no retry starts after the tick that follows the failed
    one. For backfill runs and their retries (old nominal times) the tick that
    follows their start."""
    base = run.nominal
    if run.trigger is Trigger.BACKFILL:
        base = int(run.created if run.created is not None else p.now)
    nxt = p.timeline.next_tick(base)
    return float(nxt.nominal) if nxt is not None else None


def final_failure(p: Pass, name: str, message: str, *, at: float) -> None:
    """A run failed for good: count the streak, mark Degraded, maybe stop firing."""
    p.status.consecutive_failures += 1
    p.status.last_failure_time = to_time(at)
    p.degraded(ConditionStatus.TRUE, Reason.RUN_FAILED, f"run {name} failed: {message}")
    p.event(EventType.WARNING, "Failed", f"Run {name} failed: {message}")
    limit = p.spec.suspend_after_failures
    if limit is not None and p.status.consecutive_failures == limit:
        p.event(
            EventType.WARNING,
            "TooManyFailures",
            f"{limit} consecutive runs failed; no new runs until the spec changes "
            "or the kron.dev/resume annotation gets a new value",
        )
