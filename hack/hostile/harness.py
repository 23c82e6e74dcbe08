"""One hostile case through the code path the engine runs, and what came of it.

A case is a ScheduledTask object (spec, annotations, maybe a persisted status) and
some Jobs or Pods that claim to be its runs. It is fed to a real `Engine`
(`observe_task`, `observe_run`, the dispatcher's planning turn), the runs it
decides are built by the executor and echoed back as the API server would, and
the task is planned again. The API server itself is not involved here; which of
these objects it would admit is asked separately (`admission.py`).

A *crash* is an exception that escapes the engine; an *internal error* is one the
engine caught at the task's boundary (reported as `InternalError`). Both are
findings; everything else is either planned or reported on the task as invalid.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from hostile.strategies import (
    annotations,
    calendars,
    instants,
    json_values,
    specs,
    task_names,
    texts,
)
from kron.api import RunKind, Trigger
from kron.engine import Engine
from kron.engine.index import encode
from kron.k8s.api import KubeApi
from kron.metrics import Metrics
from kron.planner import UNPLANNABLE, CreateRun
from kron.planner.timeutil import rfc3339
from kron.schedule import run_name
from kron.settings import Settings

NAMESPACE = "tenant-a"
UID = "5a1c0e3e-0000-4000-8000-00000000000a"
NEIGHBOUR_UID = "5a1c0e3e-0000-4000-8000-00000000000b"
JOB = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}}}


@dataclass
class Case:
    task: dict[str, Any]
    runs: list[tuple[RunKind, dict[str, Any]]]
    now: float
    calendars: list[dict[str, Any]] = field(default_factory=list)
    """Calendars observed before the task (some named by it), and one edit after."""


@dataclass
class Outcome:
    verdict: str
    """planned | reported (Invalid*) | internal (InternalError) | crash"""
    reason: str = ""
    plan_seconds: float = 0.0
    """CPU time of the hostile task's longest plan."""
    status_bytes: int = 0
    detail: str = ""
    neighbour_fired: bool = True
    """The well-behaved task of another namespace, in the same engine, fired on time."""


@dataclass
class Totals:
    tried: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    slowest_plan: float = 0.0
    slowest_case: str = ""
    largest_status: int = 0
    findings: list[str] = field(default_factory=list)

    def add(self, case: Case, outcome: Outcome) -> None:
        self.tried += 1
        self.verdicts[outcome.verdict] = self.verdicts.get(outcome.verdict, 0) + 1
        if outcome.reason:
            self.reasons[outcome.reason] = self.reasons.get(outcome.reason, 0) + 1
        if outcome.plan_seconds > self.slowest_plan:
            self.slowest_plan = outcome.plan_seconds
            self.slowest_case = summary(case)
        self.largest_status = max(self.largest_status, outcome.status_bytes)
        if not outcome.neighbour_fired:
            self.verdicts["neighbour-missed"] = self.verdicts.get("neighbour-missed", 0) + 1
        if (outcome.verdict in ("crash", "internal") or not outcome.neighbour_fired) and len(
            self.findings
        ) < 20:
            self.findings.append(f"{outcome.verdict}: {outcome.detail} <- {summary(case)}")


def summary(case: Case, limit: int = 600) -> str:
    try:
        text = json.dumps(case.task.get("spec"), default=str)
    except RecursionError:
        text = "(a spec nested deeper than Python's recursion limit)"
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def neighbour(now: float) -> dict[str, Any]:
    """A task of another tenant that fires every second."""
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {
            "name": "neighbour",
            "namespace": "tenant-b",
            "uid": NEIGHBOUR_UID,
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": rfc3339(now - 10),
        },
        "spec": {"schedule": "@every 1s", "jobTemplate": JOB},
    }


class EchoApi:
    """The wire, for the executor's creates only: answers as the API server would."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def create_run(self, kind: RunKind, namespace: str, body: dict[str, Any]) -> Any:
        obj = json.loads(json.dumps(body))
        obj["metadata"]["uid"] = "echo-" + obj["metadata"]["name"]
        obj["metadata"]["resourceVersion"] = "2"
        obj["metadata"]["creationTimestamp"] = rfc3339(int(self.clock()))
        return obj

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the fuzz harness does not serve {name}")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


_KINDS = st.sampled_from([RunKind.JOB, RunKind.POD])
_NOMINALS = st.one_of(st.integers(0, 2**40), st.integers(-(2**40), 2**45))
_ATTEMPTS = st.one_of(st.integers(-2, 120).map(str), texts)
_API_VERSIONS = st.sampled_from(["kron.dev/v1alpha1", "kron.dev/v9", "batch/v1"])
_OWNER_KINDS = st.sampled_from(["ScheduledTask", "Job"])
_OWNER_UIDS = st.sampled_from([UID, "other-uid", ""])
_CONTROLLERS = st.sampled_from([True, False, "true"])
_NAMESPACES = st.sampled_from([NAMESPACE, NAMESPACE, "tenant-b"])
_VERSIONS = st.integers(1, 10**6)
_TRIGGERS = st.one_of(st.sampled_from([str(t) for t in Trigger]), texts)
_CONDITIONS = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Complete", "Failed", "x"]),
                "status": st.sampled_from(["True", "False", True]),
            },
            optional={"message": texts, "lastTransitionTime": instants()},
        ),
        max_size=3,
    ),
    json_values,
)
_STATUSES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "phase": st.sampled_from(["Running", "Succeeded", "Failed", 3]),
            "conditions": _CONDITIONS,
            "message": texts,
            "containerStatuses": json_values,
            "startTime": instants(),
        },
    ),
    json_values,
)


@st.composite
def observed_runs(draw: st.DrawFn, name: str) -> tuple[RunKind, dict[str, Any]]:
    """A Job or Pod claiming (or not) to be a run of the task."""
    kind = draw(_KINDS)
    nominal = draw(_NOMINALS)
    choice = draw(st.integers(0, 2))
    run = (
        run_name(name, max(nominal, 0), 0)
        if choice == 0
        else f"{name}-m0123456789"
        if choice == 1
        else draw(task_names)
    )
    owner = {
        "apiVersion": draw(_API_VERSIONS),
        "kind": draw(_OWNER_KINDS),
        "name": name if draw(st.booleans()) else draw(task_names),
        "uid": draw(_OWNER_UIDS),
        "controller": draw(_CONTROLLERS),
    }
    well_formed = 0 <= nominal < 2**38
    annotations: Any = (
        {
            "kron.dev/scheduled-time": rfc3339(nominal)
            if well_formed and draw(st.booleans())
            else draw(instants()),
            "kron.dev/attempt": draw(_ATTEMPTS),
            "kron.dev/trigger": draw(_TRIGGERS),
        }
        if draw(st.integers(0, 4))
        else draw(json_values)
    )
    metadata: dict[str, Any] = {
        "name": run,
        "namespace": draw(_NAMESPACES),
        "uid": "run-" + run,
        "resourceVersion": str(draw(_VERSIONS)),
        "creationTimestamp": rfc3339(nominal) if draw(st.booleans()) else draw(instants()),
        "labels": {"kron.dev/task-uid": UID} if draw(st.integers(0, 4)) else draw(json_values),
        "annotations": annotations,
        "ownerReferences": [owner] if draw(st.integers(0, 4)) else draw(json_values),
    }
    if draw(st.integers(0, 4)) == 0:
        metadata["deletionTimestamp"] = draw(instants())
    return kind, {"metadata": metadata, "status": draw(_STATUSES)}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    name = draw(task_names)
    now = float(draw(st.integers(946_684_800, 4_102_444_800)))  # 2000-2100
    created = draw(st.one_of(st.just(rfc3339(now - 3600)), instants()))
    metadata = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": UID,
        "generation": draw(st.integers(1, 10**9)),
        "resourceVersion": "1",
        "creationTimestamp": created,
        "annotations": draw(annotations),
    }
    task = {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": metadata,
        "spec": draw(specs()),
    }
    if draw(st.integers(0, 9)) == 0:
        task["status"] = draw(json_values)
    runs = draw(st.lists(observed_runs(name), max_size=4))
    return Case(task, runs, now, draw(st.lists(calendars(NAMESPACE), max_size=3)))


def run_case(case: Case, loop: asyncio.AbstractEventLoop) -> Outcome:
    """Feed `case` to a real engine; never raises (a crash is an outcome)."""
    clock = Clock(case.now)
    metrics = Metrics()
    engine = Engine(
        _api(clock), metrics, Settings(leader_election=False, metrics_port=0), clock=clock
    )
    engine.observe_task("ADDED", neighbour(case.now))
    engine.lead()
    slowest = _time_plans(engine)
    try:
        for calendar in case.calendars[:-1]:
            engine.calendars.observe("ADDED", calendar)
        engine.observe_task("ADDED", case.task)
        for kind, obj in case.runs:
            engine.observe_run(kind, "ADDED", obj)
        _plan_turns(engine)
        loop.run_until_complete(_create_decided(engine))
        clock.now += 1.5
        for calendar in case.calendars[-1:]:  # an edit while the task refers to it
            engine.calendars.observe("MODIFIED", calendar)
        engine.wake(UID)
        _plan_turns(engine)
        loop.run_until_complete(_create_decided(engine))
    except Exception as err:  # the finding this harness exists to report
        return Outcome("crash", detail=f"{type(err).__name__}: {str(err)[:300]}")
    fired = {r.nominal for r in engine.tasks[NEIGHBOUR_UID].runs.values() if not r.in_flight}
    neighbour_fired = {int(case.now), int(case.now) + 1} <= fired
    elapsed = max(slowest, default=0.0)
    entry = engine.tasks.get(UID)
    if entry is None:
        return Outcome("crash", detail="the task vanished from the index")
    status = entry.intended_api()
    size = len(encode(status))
    ready = next((c for c in status.get("conditions") or () if c.get("type") == "Ready"), {})
    reason = str(ready.get("reason", ""))
    errors = sum(
        metrics.registry.get_sample_value("kron_task_errors_total", {"stage": stage}) or 0.0
        for stage in ("index", "observe", "plan", "build", "record")
    )
    if errors or reason == "InternalError":
        message = str(ready.get("message", ""))[:300]
        return Outcome("internal", reason, elapsed, size, message, neighbour_fired)
    verdict = "reported" if reason in UNPLANNABLE else "planned"
    return Outcome(verdict, reason, elapsed, size, "", neighbour_fired)


def _time_plans(engine: Engine) -> list[float]:
    """CPU seconds of each plan of the hostile task (thread time: other processes on
    a shared machine do not count)."""
    seconds: list[float] = []
    plan_task = engine._plan_task

    def timed(uid: str, now: float) -> None:
        # The collector off: a full collection of the fuzzer's own garbage (hypothesis
        # keeps a lot) would be charged to whichever plan it interrupts.
        gc.disable()
        started = time.thread_time()
        try:
            plan_task(uid, now)
        finally:
            elapsed = time.thread_time() - started
            gc.enable()
        if uid == UID:
            seconds.append(elapsed)

    engine._plan_task = timed  # type: ignore[method-assign]
    return seconds


def _api(clock: Clock) -> KubeApi:
    api: Any = EchoApi(clock)
    return api  # type: ignore[no-any-return]


def _plan_turns(engine: Engine, turns: int = 50) -> None:
    for _ in range(turns):
        if not engine.turn(engine.clock()):
            return


async def _create_decided(engine: Engine) -> None:
    """The executor's create path for every run the plan decided, echoed back."""
    for entry in list(engine.tasks.values()):
        for run in list(entry.runs.values()):
            if run.in_flight:
                create = CreateRun(
                    run.name, run.nominal, run.attempt, run.trigger, engine.clock(), None
                )
                await engine.executor._create(entry.ref.uid, create, 0)
