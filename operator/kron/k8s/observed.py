"""Reading Jobs and Pods back as runs: whose run it is, for which tick, how it ended.

Everything here reads objects a tenant can write: anyone who may create Pods in
some namespace can put kron's label and annotations on one. So a Job or Pod is a
run of task T only when

- its *controller* ownerReference is a kron.dev ScheduledTask with T's UID, and it
  lives in T's namespace (ownerReferences cannot cross namespaces: the engine
  compares the run's namespace with the task's); the `kron.dev/task-uid` label is
  only the server-side filter of the watch, and must agree;
- kron's annotations are well-formed: `kron.dev/scheduled-time` an RFC 3339 instant
  in the supported range and not after the object was created (plus
  `CLOCK_SKEW`), `kron.dev/attempt` a small non-negative integer,
  `kron.dev/trigger` one of kron's triggers;
- its name is the one kron gives that tick (`<task>-<nominal>[-r<attempt>]`, or a
  manual run's `<task>-m<hash>[-r<attempt>]`), so annotations cannot claim a tick the
  name does not carry.

Anything else is not a run: the engine ignores it, with a metric and a throttled
log line, and it never moves a task's cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from kron.api import RunKind, Trigger
from kron.api.constants import (
    ANN_ATTEMPT,
    ANN_SCHEDULED_RUN,
    ANN_SCHEDULED_TIME,
    ANN_TRIGGER,
    GROUP,
    KIND,
    LABEL_TASK_UID,
    MAX_RETRIES,
    MAX_RUNS,
)
from kron.planner import ObservedRun, RunPhase
from kron.schedule import MAX_INSTANT, is_manual_run_name, run_name

Object = dict[str, Any]

CLOCK_SKEW: Final = 300
"""Seconds a run's scheduled time may lie after its creationTimestamp: kron stamps
nominal times by its own clock, the API server stamps creation by its own."""
MESSAGE_LIMIT: Final = 1024
"""Characters of a run's failure message kept (Job conditions, Pod statuses)."""
_ATTEMPT = re.compile(r"[0-9]{1,3}")
_SCHEDULED_RUN = re.compile(r"[0-9]{1,10}")


class Ignored(StrEnum):
    """Why a labelled object is not taken as a run (the `reason` metric label)."""

    OWNER = "owner"
    NAMESPACE = "namespace"
    ANNOTATION = "annotation"
    NAME = "name"
    FUTURE = "future"
    TOO_MANY = "too_many"
    """The task has MAX_INDEXED_RUNS runs in the index already."""


@dataclass(frozen=True, slots=True)
class RunOwner:
    """The task a Job or Pod claims to belong to (its namespace is the object's own)."""

    namespace: str
    name: str
    uid: str


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_time(value: object) -> float | None:
    """An RFC 3339 instant with an offset, as Unix seconds; None if it is not one."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return None
        return moment.timestamp()
    except (ValueError, OverflowError):
        return None


def run_owner(obj: Object) -> RunOwner | None:
    """The ScheduledTask that controls `obj`, if its controller reference names one.

    None when it has no controller reference to a kron.dev ScheduledTask, or when
    the `kron.dev/task-uid` label (the watch's filter) disagrees with it.
    """
    meta = _mapping(obj.get("metadata"))
    for ref in _items(meta.get("ownerReferences")):
        if not isinstance(ref, dict) or ref.get("controller") is not True:
            continue
        api_version, uid, name = ref.get("apiVersion"), ref.get("uid"), ref.get("name")
        if (
            ref.get("kind") != KIND
            or not isinstance(api_version, str)
            or api_version.partition("/")[0] != GROUP
            or not (isinstance(uid, str) and uid and isinstance(name, str) and name)
        ):
            return None  # one controller only, and it is not a task
        label = _mapping(meta.get("labels")).get(LABEL_TASK_UID)
        if label != uid:
            return None
        namespace = meta.get("namespace")
        return RunOwner(namespace if isinstance(namespace, str) else "", name, uid)
    return None


def read_run(kind: RunKind, obj: Object, task: str) -> ObservedRun | Ignored:
    """`obj` as a run of the task named `task` (its owner checked already), or why not."""
    meta = _mapping(obj.get("metadata"))
    annotations = _mapping(meta.get("annotations"))
    nominal = parse_time(annotations.get(ANN_SCHEDULED_TIME))
    if nominal is None or not 0 <= nominal < MAX_INSTANT or nominal != int(nominal):
        return Ignored.ANNOTATION
    attempt_text = annotations.get(ANN_ATTEMPT, "0")
    if not isinstance(attempt_text, str) or not _ATTEMPT.fullmatch(attempt_text):
        return Ignored.ANNOTATION
    attempt = int(attempt_text)
    trigger_text = annotations.get(ANN_TRIGGER, str(Trigger.SCHEDULE))
    if attempt > MAX_RETRIES or trigger_text not in _TRIGGERS:
        return Ignored.ANNOTATION
    trigger = Trigger(trigger_text)
    name = meta.get("name")
    if not isinstance(name, str) or not _named_for(task, name, int(nominal), attempt, trigger):
        return Ignored.NAME
    created = parse_time(meta.get("creationTimestamp"))
    if created is not None and nominal > created + CLOCK_SKEW:
        return Ignored.FUTURE
    status = _mapping(obj.get("status"))
    if kind is RunKind.JOB:
        phase, started, finished, message = _job_state(status)
    else:
        phase, started, finished, message = _pod_state(status)
    uid = meta.get("uid")
    return ObservedRun(
        name=name,
        kind=kind,
        nominal=int(nominal),
        attempt=attempt,
        trigger=trigger,
        phase=phase,
        uid=uid if isinstance(uid, str) else "",
        created=created,
        started=started,
        finished=finished,
        message=message[:MESSAGE_LIMIT],
        deleting=bool(meta.get("deletionTimestamp")),
        scheduled_run=_scheduled_run(annotations.get(ANN_SCHEDULED_RUN)),
    )


def _scheduled_run(text: object) -> int | None:
    """The run's number in its task's maxRuns count; None when absent or not a number
    maxRuns allows (it only ever raises the task's own count)."""
    if not isinstance(text, str) or not _SCHEDULED_RUN.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_RUNS else None


_TRIGGERS: Final = frozenset(str(t) for t in Trigger)


def _named_for(task: str, name: str, nominal: int, attempt: int, trigger: Trigger) -> bool:
    try:
        if trigger is Trigger.MANUAL:
            return is_manual_run_name(task, name, attempt)
        return name == run_name(task, nominal, attempt)
    except ValueError:
        return False


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _job_state(status: Object) -> tuple[RunPhase, float | None, float | None, str]:
    started = parse_time(status.get("startTime"))
    for condition in _items(status.get("conditions")):
        if not isinstance(condition, dict) or condition.get("status") != "True":
            continue
        kind = condition.get("type")
        if kind == "Complete":
            finished = parse_time(status.get("completionTime")) or parse_time(
                condition.get("lastTransitionTime")
            )
            return RunPhase.SUCCEEDED, started, finished, ""
        if kind == "Failed":
            reason = _text(condition.get("reason")) or "Failed"
            detail = _text(condition.get("message"))
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
    for container in _items(status.get("containerStatuses")):
        if not isinstance(container, dict):
            continue
        terminated = _mapping(_mapping(container.get("state")).get("terminated"))
        end = parse_time(terminated.get("finishedAt"))
        if end is not None and (finished is None or end > finished):
            finished = end
        code = terminated.get("exitCode")
        if code not in (None, 0):
            reason = _text(terminated.get("reason")) or "Error"
            failures.append(f"{_text(container.get('name'))}: {reason}, exit code {code}")
    if phase == "Succeeded":
        return RunPhase.SUCCEEDED, started, finished, ""
    message = (
        "; ".join(failures)
        or _text(status.get("message"))
        or _text(status.get("reason"))
        or "Pod failed"
    )
    return RunPhase.FAILED, started, finished, message
