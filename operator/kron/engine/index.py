"""What the engine knows about one task, kept in memory between events.

Everything here is rebuilt from the API server after a restart: the task object
(spec, annotations, last persisted status) and its runs (Jobs/Pods carrying its
UID). What exists only in memory is what is not yet durable: the intended status
not yet written, creates in flight, and cleanup waiting for that write.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kron.api import RunKind, ScheduledTaskSpec, ScheduledTaskStatus
from kron.k8s.runs import TaskRef
from kron.logs import Throttled
from kron.planner import CreateFailure, DeleteRun, ObservedRun
from kron.planner.conditions import ready_reason

log = logging.getLogger(__name__)
_unreadable = Throttled(log)


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
        # Never the input itself: it can be anything, of any size.
        first = err.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "status"
        _unreadable.log(
            logging.WARNING,
            "ignoring unreadable status (%s: %s)",
            where[:200],
            str(first["msg"])[:200],
        )
        return ScheduledTaskStatus()


def encode(document: dict[str, Any]) -> bytes:
    """Canonical compact JSON: equal documents give equal bytes."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


EMPTY = encode({})
PENDING = "Pending"
"""The gauges' state of a task kron has not planned yet."""


def _overdue(status: ScheduledTaskStatus) -> float | None:
    """The last success's Unix time (0.0: never) when the task is overdue, else None."""
    if not any(c.type == "Overdue" and c.status == "True" for c in status.conditions):
        return None
    last = status.last_successful_time
    return last.timestamp() if last is not None else 0.0


@dataclass(slots=True)
class TaskEntry:
    ref: TaskRef
    generation: int = 0
    created: float = 0.0
    rv: int | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    _spec: bytes | None = None
    """The validated spec as the server has it, as JSON (None: unusable, see `invalid`)."""
    kind: RunKind = RunKind.JOB
    """What the spec's runs are (kept apart: the fire path reads it often)."""
    invalid: tuple[str, str] | None = None
    """(reason, message) when the spec cannot be used."""
    _persisted: bytes = EMPTY
    """The status as the server last showed it, as canonical JSON."""
    _intended: bytes | None = None
    """The status kron intends (written through the status subresource), as
    canonical JSON; None while it is the persisted one."""
    ready_reason: str = PENDING
    """The Ready condition's reason in the intended status (for the gauges)."""
    overdue: float | None = None
    """While the intended status says Overdue=True: when a run last succeeded (0: never)."""
    version: int = 0
    """Bumped each time `status` changes."""
    written: int = 0
    """The `version` the server has."""
    status_queued: bool = False
    """A status write is wanted (queued, backing off, or due after the one in flight)."""
    status_due: float = 0.0
    """When the queued status write is to be sent (progress waits a little)."""
    status_since: float = 0.0
    """When the first change the queued write gathers was made."""
    calendars_changed: bool = False
    """A calendar it names changed since it was last planned (which its persisted
    status cannot show a new leader)."""
    status_urgent: bool = False
    """The queued write carries a change that must be seen at once: no holding."""
    status_writing: bool = False
    """A status write is on the wire: at most one per task at a time."""
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
    defer_streak: int = 0
    """Consecutive plans whose budget ran out (their look-ahead backs off)."""
    look_ahead_at: float = 0.0
    """While `defer_streak`, when the next plan may look ahead again."""
    fault_streak: int = 0
    """Consecutive passes that failed inside kron (0: the last one succeeded)."""
    raw_spec: bytes | None = None
    """The spec as the server has it, kept only while reading it failed inside kron
    (reason InternalError), so that a retry can read it again."""
    reserved: list[str] | None = None
    """The template's own kron.dev/ keys, to report once (None: nothing to report)."""

    # Statuses (and the spec) are kept as compact JSON and parsed when a plan needs
    # them: as dicts
    # and pydantic models they cost ~14 KiB a task (5.3 raw + 8.9 model, measured
    # with tracemalloc), as JSON ~1.3 KiB, and the intended copy is dropped as soon
    # as the server shows the same document. Parsing costs tens of microseconds per
    # plan, against a plan's few hundred.

    @property
    def spec(self) -> ScheduledTaskSpec | None:
        """The spec, parsed afresh (about 20 us; as a model it would stay ~4.7 KiB)."""
        if self._spec is None:
            return None
        return ScheduledTaskSpec.model_validate_json(self._spec)

    def set_spec(self, spec: ScheduledTaskSpec | None, raw: dict[str, Any]) -> None:
        """Keep `raw`, the document `spec` was validated from (None: invalid)."""
        if spec is None:
            self._spec = None
            return
        self._spec = encode(raw)
        self.kind = spec.kind

    @property
    def persisted_json(self) -> bytes:
        """The status as the server last showed it, as canonical JSON."""
        return self._persisted

    @property
    def persisted(self) -> dict[str, Any]:
        """The status as the server last showed it (raw, a fresh dict)."""
        result: dict[str, Any] = json.loads(self._persisted)
        return result

    def set_persisted(self, raw: dict[str, Any], *, keep_intent: bool) -> None:
        """Record the server's status. `keep_intent`: what kron intends stays what it
        was (the leader's view); otherwise the intent follows the server."""
        persisted = encode(raw)
        if keep_intent and self._intended is None and persisted != self._persisted:
            self._intended = self._persisted
        self._persisted = persisted
        if self._intended == persisted:
            self._intended = None

    @property
    def status(self) -> ScheduledTaskStatus:
        """The status kron intends, parsed afresh (callers may modify it)."""
        document = self._intended or self._persisted
        try:
            return ScheduledTaskStatus.model_validate_json(document)
        except ValidationError:
            return parse_status(json.loads(document))  # says why (throttled), empty status

    @status.setter
    def status(self, value: ScheduledTaskStatus) -> None:
        intended = encode(value.to_api())
        self._intended = None if intended == self._persisted else intended
        self.ready_reason = ready_reason(value) or PENDING
        self.overdue = _overdue(value)

    @property
    def has_intent(self) -> bool:
        """kron intends a status the server does not have yet."""
        return self._intended is not None

    def intended_api(self) -> dict[str, Any]:
        """The intended status as the API server takes it (a fresh dict)."""
        result: dict[str, Any] = json.loads(self._intended or self._persisted)
        return result

    def reset_status(self, raw: dict[str, Any] | None = None) -> None:
        """Intend exactly what the server has (`raw`: that status, when the caller has
        it decoded). Only its Ready reason is read here (for the gauges; validating
        every status made loading 100,000 tasks take minutes); a status this kron
        cannot read is replaced by an empty one at the next plan."""
        self._intended = None
        document = raw if raw is not None else json.loads(self._persisted)
        self.ready_reason = raw_ready_reason(document)
        self.overdue = raw_overdue(document)


def raw_ready_reason(status: object) -> str:
    """The Ready condition's reason in a status as the server stores it."""
    conditions = status.get("conditions") if isinstance(status, dict) else None
    for condition in conditions if isinstance(conditions, list) else ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            reason = condition.get("reason")
            return reason if isinstance(reason, str) and reason else PENDING
    return PENDING


def raw_overdue(status: object) -> float | None:
    """`TaskEntry.overdue` from a status as the server stores it (None unless Overdue=True)."""
    if not isinstance(status, dict):
        return None
    conditions = status.get("conditions")
    overdue = any(
        isinstance(c, dict) and c.get("type") == "Overdue" and c.get("status") == "True"
        for c in (conditions if isinstance(conditions, list) else ())
    )
    if not overdue:
        return None
    last = status.get("lastSuccessfulTime")
    try:
        return datetime.fromisoformat(last).timestamp() if isinstance(last, str) else 0.0
    except ValueError:
        return 0.0
