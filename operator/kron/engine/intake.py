"""Reading what the watches deliver into what the index keeps.

Tasks and runs arrive as plain JSON objects written by tenants. This module turns a
task's spec into a validated model or a one-line reason it cannot be used, and
decides whether a labelled Job or Pod is a run of a known task (see
`kron.k8s.observed` for the rules). Nothing here raises for bad input: every
outcome is a value the engine records on the task or counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from kron.api import ScheduledTaskSpec, field_errors
from kron.api.constants import RESERVED_PREFIX
from kron.k8s.observed import Ignored, RunOwner
from kron.k8s.runs import TaskRef, reserved_keys
from kron.planner import ObservedRun, Reason, TaskEvent
from kron.planner.records import EventType

MESSAGE_LIMIT = 1000
"""Characters of a spec's validation problems kept in its condition."""
MAX_ORPHAN_TASKS = 10_000
"""Tasks whose runs are kept while the task itself is not known yet (runs are listed
before tasks at start; a run's event can beat its task's). Older ones are dropped:
a run that is not in the index is still never created twice (its name is taken)."""


@dataclass(slots=True)
class SpecReading:
    """A task's spec as the engine keeps it: usable, or why not."""

    spec: ScheduledTaskSpec | None
    invalid: tuple[str, str] | None = None
    reserved: list[str] = field(default_factory=list)


def read_spec(raw: object) -> SpecReading:
    """Validate a task's spec; invalid input is a reason and a message, never an error."""
    if not isinstance(raw, dict):
        return SpecReading(None, (Reason.INVALID_SPEC, "spec: must be an object"))
    try:
        spec = ScheduledTaskSpec.model_validate(raw)
    except ValidationError as err:
        problems = field_errors(err)
        kinds = {p.type for p in problems}
        if "invalid_time_zone" in kinds:
            reason = Reason.INVALID_TIME_ZONE
        elif "invalid_schedule" in kinds:
            reason = Reason.INVALID_SCHEDULE
        else:
            reason = Reason.INVALID_SPEC
        message = "; ".join(f"spec.{p.path}: {p.message}" for p in problems)
        return SpecReading(None, (reason, message[:MESSAGE_LIMIT]))
    return SpecReading(spec, None, reserved_keys(spec))


def reserved_event(keys: list[str]) -> TaskEvent:
    """The Warning that a template's own kron.dev/ keys were left out of its runs."""
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return TaskEvent(
        EventType.WARNING,
        "ReservedMetadata",
        f"Left out of every run: {shown} (keys starting with {RESERVED_PREFIX} are kron's own)",
    )


def owned_by(ref: TaskRef, owner: RunOwner) -> Ignored | None:
    """Whether a run claiming `owner` really is one of the task `ref` (None: it is)."""
    if owner.namespace != ref.namespace:
        return Ignored.NAMESPACE
    if owner.name != ref.name:
        return Ignored.OWNER
    return None


class Orphans:
    """Runs of tasks not in the index yet, by the namespace and task UID they claim.

    Unbounded while the index loads (runs are listed before tasks: every run is an
    orphan until its task's page arrives), then `loaded` drops what no listed task
    took and bounds the rest to `limit` tasks, oldest dropped first: from then on
    orphans are only runs whose event beat their task's.
    """

    def __init__(self, limit: int = MAX_ORPHAN_TASKS) -> None:
        self._runs: dict[tuple[str, str], tuple[RunOwner, dict[str, ObservedRun]]] = {}
        self._limit: int | None = None
        self._bound = limit

    def runs(self, owner: RunOwner) -> dict[str, ObservedRun]:
        """The (mutable) runs kept for `owner`'s task."""
        key = (owner.namespace, owner.uid)
        held = self._runs.get(key)
        if held is None or held[0] != owner:
            held = self._runs[key] = (owner, {})
            if self._limit is not None:
                while len(self._runs) > self._limit:
                    del self._runs[next(iter(self._runs))]
        return held[1]

    def discard(self, owner: RunOwner, name: str) -> None:
        """Run `name` of `owner`'s task is gone; a task with none left is forgotten."""
        key = (owner.namespace, owner.uid)
        held = self._runs.get(key)
        if held is None:
            return
        held[1].pop(name, None)
        if not held[1]:
            del self._runs[key]

    def adopt(self, ref: TaskRef) -> dict[str, ObservedRun]:
        """Hand over the runs kept for `ref`, if they claim its name."""
        held = self._runs.pop((ref.namespace, ref.uid), None)
        if held is None or owned_by(ref, held[0]) is not None:
            return {}
        return held[1]

    def forget(self, ref: TaskRef) -> None:
        self._runs.pop((ref.namespace, ref.uid), None)

    def loaded(self) -> None:
        """Every task is listed: what is left belongs to no task; bound from now on."""
        self._runs.clear()
        self._limit = self._bound

    def clear(self) -> None:
        self._runs.clear()

    def __len__(self) -> int:
        return len(self._runs)
