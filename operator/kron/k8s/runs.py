"""Runs as Kubernetes objects: build a Job or Pod for a tick, read one back.

Pure functions (no API calls), so both directions are unit-tested and the
manifest a run gets is exactly what `kron` documents: ownerReference to the task
(controller, so deleting the task deletes its runs), the `kron.dev/task` and
`kron.dev/task-uid` labels, and the scheduled-time, attempt and trigger
annotations that let a restarted operator rebuild its state from the runs alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kron.api import RunKind, ScheduledTaskSpec, Trigger, format_time
from kron.api.constants import (
    ANN_ATTEMPT,
    ANN_SCHEDULED_TIME,
    ANN_TRIGGER,
    API_VERSION,
    KIND,
    LABEL_TASK,
    LABEL_TASK_UID,
)
from kron.planner import CreateRun, ObservedRun, RunPhase

DEFAULT_RESTART_POLICY = "Never"

Object = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskRef:
    """The identity of a task, as its runs point back to it."""

    namespace: str
    name: str
    uid: str


def owner_reference(task: TaskRef) -> Object:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": task.name,
        "uid": task.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def build_run(task: TaskRef, spec: ScheduledTaskSpec, create: CreateRun) -> Object:
    """The Job or Pod manifest for one run of `task`."""
    template = spec.job_template if spec.job_template is not None else spec.pod_template
    assert template is not None  # the model guarantees exactly one
    labels = dict(template.metadata.labels or {}) if template.metadata else {}
    annotations = dict(template.metadata.annotations or {}) if template.metadata else {}
    labels[LABEL_TASK] = task.name
    labels[LABEL_TASK_UID] = task.uid
    annotations[ANN_SCHEDULED_TIME] = format_time(datetime.fromtimestamp(create.nominal, tz=UTC))
    annotations[ANN_ATTEMPT] = str(create.attempt)
    annotations[ANN_TRIGGER] = str(create.trigger)
    metadata: Object = {
        "name": create.name,
        "namespace": task.namespace,
        "labels": labels,
        "annotations": annotations,
        "ownerReferences": [owner_reference(task)],
    }
    body = copy.deepcopy(template.spec)
    if spec.kind is RunKind.JOB:
        pod_template = body.setdefault("template", {})
        pod_meta = pod_template.setdefault("metadata", {})
        # Only the task name goes on the Job's Pods: `kron.dev/task-uid` marks runs,
        # and the operator's Pod watch selects on it.
        pod_meta.setdefault("labels", {})[LABEL_TASK] = task.name
        pod_template.setdefault("spec", {}).setdefault("restartPolicy", DEFAULT_RESTART_POLICY)
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": body}
    body.setdefault("restartPolicy", DEFAULT_RESTART_POLICY)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": body}


def parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def task_uid_of(obj: Object) -> str | None:
    labels = obj.get("metadata", {}).get("labels") or {}
    uid = labels.get(LABEL_TASK_UID)
    return uid if isinstance(uid, str) and uid else None


def observe_run(kind: RunKind, obj: Object) -> ObservedRun | None:
    """Read a Job or Pod back as the planner sees it; None if it is not a kron run."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    nominal = parse_time(annotations.get(ANN_SCHEDULED_TIME))
    if task_uid_of(obj) is None or nominal is None:
        return None
    try:
        attempt = int(annotations.get(ANN_ATTEMPT, "0"))
    except ValueError:
        attempt = 0
    try:
        trigger = Trigger(annotations.get(ANN_TRIGGER, Trigger.SCHEDULE))
    except ValueError:
        trigger = Trigger.SCHEDULE
    status = obj.get("status") or {}
    if kind is RunKind.JOB:
        phase, started, finished, message = _job_state(status)
    else:
        phase, started, finished, message = _pod_state(status)
    return ObservedRun(
        name=meta.get("name", ""),
        kind=kind,
        nominal=int(nominal),
        attempt=attempt,
        trigger=trigger,
        phase=phase,
        uid=meta.get("uid", ""),
        created=parse_time(meta.get("creationTimestamp")),
        started=started,
        finished=finished,
        message=message,
        deleting=bool(meta.get("deletionTimestamp")),
    )


def _job_state(status: Object) -> tuple[RunPhase, float | None, float | None, str]:
    started = parse_time(status.get("startTime"))
    for condition in status.get("conditions") or ():
        if condition.get("status") != "True":
            continue
        kind = condition.get("type")
        if kind == "Complete":
            finished = parse_time(status.get("completionTime")) or parse_time(
                condition.get("lastTransitionTime")
            )
            return RunPhase.SUCCEEDED, started, finished, ""
        if kind == "Failed":
            reason = condition.get("reason") or "Failed"
            detail = condition.get("message") or ""
            message = f"{reason}: {detail}" if detail else reason
            return (
                RunPhase.FAILED,
                started,
                parse_time(condition.get("lastTransitionTime")),
                message,
            )
    return RunPhase.ACTIVE, started, None, ""


def _pod_state(status: Object) -> tuple[RunPhase, float | None, float | None, str]:
    started = parse_time(status.get("startTime"))
    phase = status.get("phase")
    if phase not in ("Succeeded", "Failed"):
        return RunPhase.ACTIVE, started, None, ""
    finished: float | None = None
    failures: list[str] = []
    for container in status.get("containerStatuses") or ():
        terminated = (container.get("state") or {}).get("terminated") or {}
        end = parse_time(terminated.get("finishedAt"))
        if end is not None and (finished is None or end > finished):
            finished = end
        code = terminated.get("exitCode")
        if code not in (None, 0):
            reason = terminated.get("reason") or "Error"
            failures.append(f"{container.get('name')}: {reason}, exit code {code}")
    if phase == "Succeeded":
        return RunPhase.SUCCEEDED, started, finished, ""
    message = "; ".join(failures) or status.get("message") or status.get("reason") or "Pod failed"
    return RunPhase.FAILED, started, finished, message
