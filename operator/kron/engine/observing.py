"""The index of tasks and runs, fed by the initial list and the watches.

Each observation is read inside the fault boundary of the task it concerns: a
spec kron cannot read makes that task `InvalidSpec` (or `InternalError`), and a
labelled Job or Pod that is not provably one of a task's runs is ignored and
counted. Nothing an object holds can stop the index from taking the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from kron.api import RunKind
from kron.api.constants import GROUP, MAX_INDEXED_RUNS
from kron.engine.calendars import CalendarIndex
from kron.engine.events import EventRecorder
from kron.engine.faults import Faults, Stage
from kron.engine.index import TaskEntry, encode, resource_version
from kron.engine.intake import Orphans, owned_by, read_spec
from kron.engine.timers import Timers
from kron.k8s.observed import Ignored, parse_time, read_run, run_owner
from kron.k8s.runs import TaskRef
from kron.k8s.shards import shard_of
from kron.logs import Throttled
from kron.metrics import Metrics
from kron.planner import ObservedRun, Reason, RunPhase
from kron.planner.records import SCHEDULED_TRIGGERS
from kron.settings import Settings

log = logging.getLogger(__name__)


def where(ref: TaskRef) -> str:
    """How log lines name a task."""
    return f"task {ref.namespace}/{ref.name}"


class IndexOwner(Protocol):
    """What the index needs from the engine."""

    settings: Settings
    metrics: Metrics
    faults: Faults
    timers: Timers
    events: EventRecorder
    calendars: CalendarIndex
    clock: Callable[[], float]

    @property
    def leading(self) -> bool: ...

    def wake(self, uid: str, when: float | None = None) -> None: ...


class TaskIndex:
    """Tasks by UID with their runs; runs of tasks not seen yet wait as orphans."""

    def __init__(self, owner: IndexOwner) -> None:
        self._owner = owner
        self.tasks: dict[str, TaskEntry] = {}
        self.orphans = Orphans()
        self._ignored_log = Throttled(log)

    def mine(self, uid: str, namespace: str | None) -> bool:
        """Whether this replica serves the task: its namespaces, its shard."""
        if self._owner.settings.namespaces and namespace not in self._owner.settings.namespaces:
            return False
        return self._owner.settings.shard_count == 1 or (
            shard_of(uid, self._owner.settings.shard_count) == self._owner.settings.shard_index
        )

    def observe_task(
        self, event_type: str | None, obj: dict[str, Any], *, known_only: bool = False
    ) -> None:
        """A ScheduledTask as listed or watched; a fault stays with that task.
        `known_only`: the answer to kron's own write, which updates a task the index
        holds but never brings back one whose deletion it has seen meanwhile."""
        try:
            self._observe_task(event_type, obj, known_only)
        except Exception as err:
            self._index_failed(obj, err)

    def _observe_task(self, event_type: str | None, obj: dict[str, Any], known_only: bool) -> None:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid or not self.mine(uid, meta.get("namespace")):
            return
        if event_type == "DELETED":
            self.forget(uid)
            return
        entry = self.tasks.get(uid)
        if entry is None and known_only:
            return
        rv = resource_version(obj)
        if entry is not None and rv is not None and entry.rv is not None and rv <= entry.rv:
            return  # older than what a list or our own write already showed
        new = entry is None
        if entry is None:
            ref = TaskRef(meta.get("namespace", ""), meta.get("name", ""), uid)
            entry = TaskEntry(ref=ref)
            entry.runs = self.orphans.adopt(ref)
            self.tasks[uid] = entry
        entry.rv = rv
        status = obj.get("status") or {}
        entry.set_persisted(status, keep_intent=self._owner.leading and not new)
        if new or not self._owner.leading:
            entry.reset_status(status)
        entry.created = parse_time(meta.get("creationTimestamp")) or self._owner.clock()
        if meta.get("deletionTimestamp"):
            entry.terminating = True
            self._owner.timers.cancel(uid)
            return
        annotations = {
            k: v
            for k, v in (meta.get("annotations") or {}).items()
            if k.startswith(f"{GROUP}/") and isinstance(v, str)
        }
        generation = int(meta.get("generation") or 0)
        changed = new or generation != entry.generation or annotations != entry.annotations
        entry.annotations = annotations
        if new or generation != entry.generation or entry.raw_spec is not None:
            entry.generation = generation
            self.read_spec(entry, obj.get("spec"))
        if changed:
            self._owner.wake(uid)

    def read_spec(self, entry: TaskEntry, raw: object) -> None:
        entry.raw_spec = None
        try:
            reading = read_spec(raw)
        except Exception as err:
            message = self._owner.faults.report(Stage.INDEX, where(entry.ref), err)
            entry.set_spec(None, {})
            entry.invalid = (Reason.INTERNAL_ERROR, message)
            entry.raw_spec = encode(raw) if isinstance(raw, dict) else None
            return
        entry.invalid = reading.invalid
        entry.reserved = reading.reserved or None
        entry.set_spec(reading.spec, raw if isinstance(raw, dict) else {})
        names = reading.spec.calendar_names if reading.spec is not None else ()
        self._owner.calendars.track(entry.ref.uid, entry.ref.namespace, names)

    def _index_failed(self, obj: dict[str, Any], err: Exception) -> None:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        uid = meta.get("uid") if isinstance(meta, dict) else None
        entry = self.tasks.get(uid) if isinstance(uid, str) else None
        place = where(entry.ref) if entry is not None else f"task uid {str(uid)[:64]!r}"
        message = self._owner.faults.report(Stage.INDEX, place, err)
        if entry is not None:
            entry.invalid = (Reason.INTERNAL_ERROR, message)
            entry.set_spec(None, {})
            self._owner.wake(entry.ref.uid)

    def observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None:
        """A Job or Pod carrying kron's label, as listed, watched or just created."""
        try:
            self._observe_run(kind, event_type, obj)
        except Exception as err:
            meta = obj.get("metadata") if isinstance(obj, dict) else None
            name = meta.get("name") if isinstance(meta, dict) else None
            self._owner.faults.report(Stage.OBSERVE, f"{kind} {name!r}", err)

    def _observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None:
        owner = run_owner(obj)
        if owner is None:
            self._ignore(kind, obj, Ignored.OWNER, event_type)
            return
        if not self.mine(owner.uid, owner.namespace):
            # The watch selects this shard's buckets server-side: counting what still
            # arrives shows the filter at work (it should stay at zero).
            self._owner.metrics.runs_other_shard.inc()
            return
        entry = self.tasks.get(owner.uid)
        if entry is not None:
            wrong = owned_by(entry.ref, owner)
            if wrong is not None:
                self._ignore(kind, obj, wrong, event_type)
                return
        run = read_run(kind, obj, owner.name)
        if isinstance(run, Ignored):
            self._ignore(kind, obj, run, event_type)
            return
        if event_type == "DELETED":
            if entry is None:
                self.orphans.discard(owner, run.name)
            else:
                self._gone(entry, run.name, run)
            return
        runs = entry.runs if entry is not None else self.orphans.runs(owner)
        old = runs.get(run.name)
        if old is None and len(runs) >= MAX_INDEXED_RUNS:
            self._ignore(kind, obj, Ignored.TOO_MANY, event_type)
            return
        rv = resource_version(obj)
        if entry is not None and rv is not None:
            known = entry.run_rvs.get(run.name)
            if known is not None and rv <= known:
                return
            entry.run_rvs[run.name] = rv
        runs[run.name] = run
        if entry is None:
            return
        finished = old is not None and old.phase is RunPhase.ACTIVE
        if self._owner.leading and finished and run.phase is not RunPhase.ACTIVE:
            # Counted once, by the replica that acts on it (standbys see the same watch).
            self._owner.metrics.runs_finished.labels(entry.ref.namespace, str(run.phase)).inc()
            if run.finished is not None and run.created is not None:
                self._owner.metrics.run_duration.labels(str(run.phase)).observe(
                    max(0.0, run.finished - run.created)
                )
        if old is None or old.phase is not run.phase or old.deleting != run.deleting:
            self._owner.wake(owner.uid)

    def _ignore(
        self, kind: RunKind, obj: dict[str, Any], reason: Ignored, event_type: str | None
    ) -> None:
        """A labelled Job or Pod that is not a run of any task: count it, never act on it."""
        if event_type == "DELETED":
            return
        self._owner.metrics.runs_ignored.labels(str(reason)).inc()
        meta = obj.get("metadata") or {}
        self._ignored_log.log(
            logging.INFO,
            "ignoring %s %s/%s: not a run of any task (%s)",
            kind,
            str(meta.get("namespace"))[:63],
            str(meta.get("name"))[:253],
            reason,
        )

    def _gone(self, entry: TaskEntry, name: str, last: ObservedRun | None = None) -> None:
        """Run `name` of `entry` no longer exists (`last`: how it was seen deleted)."""
        old = entry.runs.pop(name, None)
        entry.run_rvs.pop(name, None)
        entry.deleting.discard(name)
        seen = last or old
        if seen is not None and seen.trigger in SCHEDULED_TRIGGERS:
            entry.tombstone = max(entry.tombstone or seen.nominal, seen.nominal)
        if old is not None and old.phase is RunPhase.ACTIVE:
            self._owner.wake(entry.ref.uid)

    def runs_relisted(
        self, kind: RunKind, namespace: str | None, present: set[tuple[str, str]]
    ) -> None:
        """The runs of `kind` (in `namespace`, or everywhere) were listed afresh after a
        watch fell too far behind: those the index holds and the listing lacks were
        deleted meanwhile."""
        for entry in list(self.tasks.values()):
            if namespace is not None and entry.ref.namespace != namespace:
                continue
            gone = [
                name
                for name, run in entry.runs.items()
                if run.kind is kind
                and not run.in_flight
                and (entry.ref.namespace, name) not in present
            ]
            for name in gone:
                self._gone(entry, name)

    def forget(self, uid: str) -> None:
        entry = self.tasks.pop(uid, None)
        self._owner.calendars.untrack(uid)
        if entry is not None:
            self.orphans.forget(entry.ref)
        self._owner.timers.cancel(uid)
        self._owner.events.forget(uid)
