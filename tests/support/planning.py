"""Builders for planner inputs, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

from kron.api import RunKind, ScheduledTaskSpec, ScheduledTaskStatus, Trigger
from kron.planner import ObservedRun, RunPhase, TaskInput

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a multiple of every interval used below
JOB = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}}}


def spec(**fields: Any) -> ScheduledTaskSpec:
    body: dict[str, Any] = {"schedule": "* * * * *", "jobTemplate": JOB}
    body.update(fields)
    if "schedules" in fields:
        body.pop("schedule")
    return ScheduledTaskSpec.model_validate(body)


def task(
    s: ScheduledTaskSpec,
    *,
    status: ScheduledTaskStatus | None = None,
    runs: tuple[ObservedRun, ...] = (),
    created: float = T0 - 30,
    resumed_at: float = T0 - 30,
    generation: int = 1,
    annotations: dict[str, str] | None = None,
    name: str = "report",
    **extra: Any,
) -> TaskInput:
    return TaskInput(
        name=name,
        namespace="team-a",
        uid="7f1c2d3e-0000-4000-8000-000000000001",
        generation=generation,
        created=created,
        spec=s,
        status=status if status is not None else ScheduledTaskStatus(),
        annotations=annotations or {},
        runs=runs,
        resumed_at=resumed_at,
        **extra,
    )


def run(
    name: str,
    nominal: int,
    *,
    phase: RunPhase = RunPhase.ACTIVE,
    attempt: int = 0,
    trigger: Trigger = Trigger.SCHEDULE,
    finished: float | None = None,
    message: str = "",
    uid: str = "",
) -> ObservedRun:
    return ObservedRun(
        name=name,
        kind=RunKind.JOB,
        nominal=nominal,
        attempt=attempt,
        trigger=trigger,
        phase=phase,
        uid=uid or f"uid-{name}",
        created=float(nominal),
        started=float(nominal),
        finished=finished,
        message=message,
    )
