"""Runs as Kubernetes objects: the Job or Pod manifest for one tick.

Pure functions (no API calls), so the manifest a run gets is exactly what `kron`
documents: ownerReference to the task (controller, so deleting the task deletes
its runs and only a task's own controller reference makes an object its run), the
`kron.dev/task` and `kron.dev/task-uid` labels, and the scheduled-time, attempt
and trigger annotations that let a restarted operator rebuild its state from the
runs alone. `kron.dev/` keys are kron's: a template's own ones are refused at
admission and, for objects admitted before that rule, left out here (the engine
reports them on the task). Reading runs back is `kron.k8s.observed`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kron.api import RunKind, ScheduledTaskSpec, format_time
from kron.api.constants import (
    ANN_ATTEMPT,
    ANN_SCHEDULED_RUN,
    ANN_SCHEDULED_TIME,
    ANN_TRIGGER,
    API_VERSION,
    KIND,
    LABEL_SHARD,
    LABEL_TASK,
    LABEL_TASK_UID,
    RESERVED_PREFIX,
)
from kron.k8s.shards import bucket_of
from kron.planner import CreateRun

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
    labels = _unreserved(template.metadata.labels)
    annotations = _unreserved(template.metadata.annotations)
    labels[LABEL_TASK] = task.name
    labels[LABEL_TASK_UID] = task.uid
    labels[LABEL_SHARD] = str(bucket_of(task.uid))
    annotations[ANN_SCHEDULED_TIME] = format_time(datetime.fromtimestamp(create.nominal, tz=UTC))
    annotations[ANN_ATTEMPT] = str(create.attempt)
    annotations[ANN_TRIGGER] = str(create.trigger)
    if create.scheduled_run is not None:
        annotations[ANN_SCHEDULED_RUN] = str(create.scheduled_run)
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
        pod_meta = pod_template.get("metadata") or {}  # `metadata: null` is admitted
        pod_template["metadata"] = pod_meta
        # Only the task name goes on the Job's Pods: `kron.dev/task-uid` marks runs,
        # and the operator's Pod watch selects on it.
        pod_labels = _unreserved(pod_meta.get("labels"))
        pod_labels[LABEL_TASK] = task.name
        pod_meta["labels"] = pod_labels
        if "annotations" in pod_meta:
            pod_meta["annotations"] = _unreserved(pod_meta["annotations"])
        pod_template.setdefault("spec", {}).setdefault("restartPolicy", DEFAULT_RESTART_POLICY)
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": body}
    body.setdefault("restartPolicy", DEFAULT_RESTART_POLICY)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": body}


def _unreserved(keys: object) -> dict[str, str]:
    if not isinstance(keys, dict):
        return {}
    return {k: v for k, v in keys.items() if not str(k).startswith(RESERVED_PREFIX)}


def reserved_keys(spec: ScheduledTaskSpec) -> list[str]:
    """The template's own `kron.dev/` labels and annotations (left out of every run)."""
    template = spec.template
    found = [
        f"{where}.{key}"
        for where, keys in (
            ("metadata.labels", template.metadata.labels),
            ("metadata.annotations", template.metadata.annotations),
        )
        for key in keys
        if key.startswith(RESERVED_PREFIX)
    ]
    if spec.kind is RunKind.JOB:
        pod_meta = (template.spec.get("template") or {}).get("metadata") or {}
        for field in ("labels", "annotations"):
            keys = pod_meta.get(field) if isinstance(pod_meta, dict) else None
            if isinstance(keys, dict):
                found += [
                    f"spec.template.metadata.{field}.{key}"
                    for key in keys
                    if str(key).startswith(RESERVED_PREFIX)
                ]
    return found
