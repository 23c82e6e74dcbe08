"""The planner driven through time against a simulated cluster.

Hypothesis picks the schedule, the policies and a random world: run durations and
failures, status writes that are lost, operator crashes (the in-memory status is
lost and replaced by the last persisted one) with downtime. Whatever happens,
no run name is ever created twice, Forbid never has two runs active, catch-up
stays within its cap, and without crashes every tick is accounted for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kron.api import (
    ConcurrencyPolicy,
    PendingReason,
    ScheduledTaskSpec,
    ScheduledTaskStatus,
    Trigger,
)
from kron.planner import ObservedRun, RunPhase, TaskInput, plan, timeline_for
from kron.planner.ticks import CATCH_UP_CAP
from support.planning import T0, spec

HORIZON = 900.0
UID = "sim-uid"


@dataclass
class World:
    spec: ScheduledTaskSpec
    rng: random.Random
    crash_rate: float
    loss_rate: float
    fail_rate: float
    now: float = T0 - 5.0
    resumed_at: float = T0 - 5.0
    intended: ScheduledTaskStatus = field(default_factory=ScheduledTaskStatus)
    durable: ScheduledTaskStatus = field(default_factory=ScheduledTaskStatus)
    runs: dict[str, ObservedRun] = field(default_factory=dict)
    finish_at: dict[str, tuple[float, RunPhase]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    tombstone: int | None = None
    crashed: bool = False
    wake: float | None = None

    def input(self) -> TaskInput:
        return TaskInput(
            name="sim",
            namespace="ns",
            uid=UID,
            generation=1,
            created=T0 - 5.0,
            spec=self.spec,
            status=self.intended,
            runs=tuple(self.runs.values()),
            resumed_at=self.resumed_at,
            tombstone=self.tombstone,
        )

    def finish_runs(self) -> None:
        for name, (at, phase) in list(self.finish_at.items()):
            if at <= self.now and name in self.runs:
                self.runs[name] = replace(self.runs[name], phase=phase, finished=at)
                del self.finish_at[name]

    def active_count(self) -> int:
        return sum(1 for r in self.runs.values() if r.phase is RunPhase.ACTIVE)

    def step(self) -> None:
        self.finish_runs()
        result = plan(self.input(), self.now)
        catch_up = [c for c in result.creates if c.trigger is Trigger.CATCH_UP]
        assert len(catch_up) <= CATCH_UP_CAP
        for delete in result.deletes:
            self._delete(delete.name)
        for create in result.creates:
            assert create.name not in self.created, f"{create.name} created twice"
            self.created.append(create.name)
            duration = self.rng.choice([0.5, 3.0, 20.0, 70.0])
            phase = RunPhase.FAILED if self.rng.random() < self.fail_rate else RunPhase.SUCCEEDED
            self.runs[create.name] = ObservedRun(
                name=create.name,
                kind=self.spec.kind,
                nominal=create.nominal,
                attempt=create.attempt,
                trigger=create.trigger,
                uid=f"uid-{create.name}",
                created=self.now,
                started=self.now,
            )
            self.finish_at[create.name] = (self.now + duration, phase)
        if self.spec.concurrency_policy is ConcurrencyPolicy.FORBID:
            assert self.active_count() <= 1
        self.intended = result.status
        if self.rng.random() >= self.loss_rate:
            self.durable = result.status.model_copy(deep=True)
            for delete in result.cleanup:
                self._delete(delete.name)
        self.wake = result.wake_at

    def _delete(self, name: str) -> None:
        run = self.runs.pop(name, None)
        self.finish_at.pop(name, None)
        self.deleted.add(name)
        if run is not None and run.trigger in (Trigger.SCHEDULE, Trigger.CATCH_UP, Trigger.RETRY):
            self.tombstone = max(self.tombstone or run.nominal, run.nominal)

    def crash(self) -> None:
        self.crashed = True
        self.intended = self.durable.model_copy(deep=True)
        self.tombstone = None
        downtime = self.rng.choice([0.2, 5.0, 45.0, 200.0])
        self.now += downtime
        self.resumed_at = self.now

    def run(self) -> None:
        while self.now < T0 + HORIZON:
            self.step()
            if self.rng.random() < self.crash_rate:
                self.crash()
                continue
            candidates = [at for at, _ in self.finish_at.values() if at > self.now]
            if self.wake is not None:
                candidates.append(max(self.wake, self.now + 0.001))
            nxt = min(candidates, default=self.now + 30.0)
            # Sometimes the dispatcher runs late, as it does under load.
            self.now = nxt + self.rng.choice([0.0, 0.0, 0.0, 0.01, 1.5])


policies = st.fixed_dictionaries(
    {
        "schedule": st.sampled_from(["*/7 * * * * *", "* * * * *", "@every 13s", "*/20 * * * * *"]),
        "concurrencyPolicy": st.sampled_from(["Allow", "Forbid", "Replace", "Queue"]),
        "catchUpPolicy": st.sampled_from(["Latest", "All", "None"]),
    },
    optional={
        "startingDeadlineSeconds": st.sampled_from([0, 5, 30]),
        "retryPolicy": st.fixed_dictionaries(
            {
                "maxRetries": st.integers(1, 3),
                "backoff": st.fixed_dictionaries({"initialSeconds": st.sampled_from([1, 4, 30])}),
                "stopAtNextSchedule": st.booleans(),
            }
        ),
        "jitterSeconds": st.sampled_from([0, 3]),
        "successfulRunsHistoryLimit": st.integers(0, 3),
        "failedRunsHistoryLimit": st.integers(0, 2),
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=policies,
    seed=st.integers(0, 2**32),
    crash=st.sampled_from([0.0, 0.05, 0.2]),
    loss=st.sampled_from([0.0, 0.3]),
    fail=st.sampled_from([0.0, 0.5]),
)
def test_no_duplicate_run_over_any_interleaving_of_crashes_and_lost_writes(
    fields: dict[str, object], seed: int, crash: float, loss: float, fail: float
) -> None:
    rng = random.Random(seed)
    world = World(spec(**fields), rng, crash_rate=crash, loss_rate=loss, fail_rate=fail)
    world.run()
    assert world.created, "the simulation should fire at least once"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=policies, seed=st.integers(0, 2**32))
def test_without_crashes_every_tick_is_fired_or_accounted_for(
    fields: dict[str, object], seed: int
) -> None:
    fields = {k: v for k, v in fields.items() if k != "retryPolicy"}
    world = World(spec(**fields), random.Random(seed), crash_rate=0.0, loss_rate=0.0, fail_rate=0.0)
    world.run()
    status = world.intended
    assert status.last_schedule_time is not None
    timeline = timeline_for(world.spec, UID)
    ticks = sum(
        1 for _ in timeline.ticks(int(T0 - 5) - 1, int(status.last_schedule_time.timestamp()))
    )
    started = sum(
        1
        for name in world.created
        if world.runs.get(name) is None or world.runs[name].trigger is not Trigger.RETRY
    )
    queued = sum(1 for p in status.pending if p.reason is PendingReason.QUEUED)
    c = status.counts
    assert started + c.missed + c.skipped + c.excluded + queued == ticks
