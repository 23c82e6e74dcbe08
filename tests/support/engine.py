"""A real Engine for tests that drive its index and planner without a cluster.

Observing and planning never call the API server (they only queue work for the
pool), so the engine gets an API object that fails the test if it is used; tests
that need the wire drive the executor's jobs with a recording stand-in instead.
"""

from __future__ import annotations

from typing import Any, cast

from kron.api import ScheduledTaskSpec, Trigger
from kron.engine import Engine
from kron.k8s.api import KubeApi
from kron.k8s.runs import TaskRef, build_run
from kron.metrics import Metrics
from kron.planner import CreateRun
from kron.planner.timeutil import rfc3339
from kron.schedule import run_name
from kron.settings import Settings

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
JOB = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}}}


class NoApi:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine called the API ({name}) while observing or planning")


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def engine(clock: Clock, **settings: Any) -> Engine:
    built = Engine(
        cast(KubeApi, NoApi()), Metrics(), Settings(leader_election=False, **settings), clock=clock
    )
    built.lead()
    return built


def task_object(
    name: str,
    namespace: str,
    uid: str,
    spec: dict[str, Any] | None = None,
    *,
    created: str = "2025-12-31T23:00:00Z",
    generation: int = 1,
    rv: int = 1,
    annotations: dict[str, str] | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = {"schedule": "* * * * * *", "jobTemplate": JOB, **(spec or {})}
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "generation": generation,
            "resourceVersion": str(rv),
            "creationTimestamp": created,
            "annotations": annotations or {},
        },
        "spec": body,
        "status": status or {},
    }


def run_object(
    ref: TaskRef,
    nominal: int,
    *,
    spec: Any = None,
    trigger: Trigger = Trigger.SCHEDULE,
    created: float | None = None,
) -> dict[str, Any]:
    """A Job exactly as kron would create it for `ref`, as the API server returns it."""
    parsed = ScheduledTaskSpec.model_validate(spec or {"schedule": "@hourly", "jobTemplate": JOB})
    create = CreateRun(run_name(ref.name, nominal), nominal, 0, trigger, float(nominal))
    obj = build_run(ref, parsed, create)
    obj["metadata"]["uid"] = f"run-{nominal}"
    obj["metadata"]["resourceVersion"] = "1"
    obj["metadata"]["creationTimestamp"] = rfc3339(nominal if created is None else created)
    return obj


def plan_all(e: Engine) -> None:
    """One dispatcher pass over every task that is due now."""
    while e.turn(e.clock()):
        pass


def creates(e: Engine) -> list[Any]:
    """Runs the executor was asked to create and has not confirmed (in flight)."""
    return [r for entry in e.tasks.values() for r in entry.runs.values() if r.in_flight]


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value
