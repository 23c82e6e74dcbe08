"""What the engine knows about one task, kept in memory between events.

Everything here is rebuilt from the API server after a restart: the task object
(spec, annotations, last persisted status) and its runs (Jobs/Pods carrying its
UID). What exists only in memory is what is not yet durable: the intended status
not yet written, creates in flight, and cleanup waiting for that write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from kron.api import ScheduledTaskSpec, ScheduledTaskStatus
from kron.k8s.runs import TaskRef
from kron.planner import CreateFailure, DeleteRun, ObservedRun

log = logging.getLogger(__name__)


def resource_version(obj: dict[str, Any]) -> int | None:
    """The object's resourceVersion as a number, if it is one.

    Kubernetes calls resourceVersions opaque; every etcd-backed API server hands
    out etcd revisions, which increase. They are compared only to drop events
    older than what a list or a write already showed; a non-numeric version
    disables that check rather than guessing.
    """
    value = (obj.get("metadata") or {}).get("resourceVersion")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_status(raw: dict[str, Any] | None) -> ScheduledTaskStatus:
    """A task's persisted status; one a newer kron wrote and this one cannot read
    restarts from empty (the runs still carry the catch-up cursor)."""
    try:
        return ScheduledTaskStatus.model_validate(raw or {})
    except ValidationError as err:
        log.warning("ignoring unreadable status: %s", err.errors(include_url=False)[:1])
        return ScheduledTaskStatus()


@dataclass(slots=True)
class TaskEntry:
    ref: TaskRef
    generation: int = 0
    created: float = 0.0
    rv: int | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    spec: ScheduledTaskSpec | None = None
    invalid: tuple[str, str] | None = None
    """(reason, message) when the spec cannot be used."""
    persisted: dict[str, Any] = field(default_factory=dict)
    """The status as the server last showed it (raw)."""
    status: ScheduledTaskStatus = field(default_factory=ScheduledTaskStatus)
    """The status kron intends (written through the status subresource)."""
    version: int = 0
    """Bumped each time `status` changes."""
    written: int = 0
    """The `version` the server has."""
    status_queued: bool = False
    runs: dict[str, ObservedRun] = field(default_factory=dict)
    run_rvs: dict[str, int] = field(default_factory=dict)
    failures: list[CreateFailure] = field(default_factory=list)
    tombstone: int | None = None
    cleanup: tuple[int, list[DeleteRun]] | None = None
    """History cleanup to run once `written` reaches the version it was planned at."""
    deleting: set[str] = field(default_factory=set)
    """Runs a delete was sent for and that are not gone yet."""
    terminating: bool = False
    """The task has a deletionTimestamp: nothing more is fired for it."""
