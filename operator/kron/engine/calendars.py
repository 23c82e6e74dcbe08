"""The index of Calendars, and which tasks refer to each.

Calendars arrive from the initial list and the watch like tasks do. Each is read
inside its own fault boundary into a `CalendarState` (its days, or one line saying
why they cannot be used), so a broken calendar reaches only the tasks that name it,
as `Ready=False reason=InvalidCalendar`. A task's spec names at most
2 x MAX_TASK_CALENDARS calendars of its own namespace; the reverse index (calendar ->
tasks) is updated whenever a task's spec is read, so an edit, creation or deletion
of a calendar wakes exactly the tasks that refer to it, and only when its days (or
its problem) changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from kron.api import field_errors
from kron.api.calendar import CalendarSpec
from kron.api.constants import MAX_TASK_CALENDARS
from kron.engine.faults import Faults, Stage
from kron.engine.index import resource_version
from kron.planner import CalendarState, calendar_days
from kron.settings import Settings

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 600
"""Characters of a calendar's validation problems kept (they go into task conditions)."""
MAX_REFS = 2 * MAX_TASK_CALENDARS

Key = tuple[str, str]
"""(namespace, calendar name)."""


class CalendarOwner(Protocol):
    """What the calendar index needs from the engine."""

    settings: Settings
    faults: Faults

    def calendar_changed(self, uid: str) -> None:
        """A calendar task `uid` names changed: plan it (now, or at a takeover)."""


def read_calendar(raw: object) -> CalendarState:
    """A Calendar's spec as days, or why not; never raises for bad input."""
    if not isinstance(raw, dict):
        return CalendarState(None, "spec: must be an object")
    try:
        spec = CalendarSpec.model_validate(raw)
    except ValidationError as err:
        text = "; ".join(f"spec.{p.path}: {p.message}" for p in field_errors(err))
        return CalendarState(None, text[:MESSAGE_LIMIT])
    return CalendarState(calendar_days(spec))


class CalendarIndex:
    """Calendars by (namespace, name), and the tasks (UIDs) that name each."""

    def __init__(self, owner: CalendarOwner) -> None:
        self._owner = owner
        self.calendars: dict[Key, CalendarState] = {}
        self._rvs: dict[Key, int] = {}
        self._referrers: dict[Key, set[str]] = {}
        self._refs: dict[str, tuple[Key, ...]] = {}

    def _mine(self, namespace: str) -> bool:
        served = self._owner.settings.namespaces
        return not served or namespace in served

    # -- calendars ---------------------------------------------------------------

    def observe(self, event_type: str | None, obj: dict[str, Any]) -> None:
        """A Calendar as listed or watched; a fault stays with that calendar."""
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict):
            return
        namespace, name = meta.get("namespace"), meta.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            return
        if not self._mine(namespace):
            return
        key = (namespace, name)
        try:
            new = self._read(key, event_type, obj)
        except Exception as err:
            message = self._owner.faults.report(Stage.INDEX, f"calendar {namespace}/{name}", err)
            new = CalendarState(None, f"kron could not read it ({message})")
        if new is _UNCHANGED:
            return
        old = self.calendars.get(key)
        if new is None:
            self.calendars.pop(key, None)
            self._rvs.pop(key, None)
        else:
            self.calendars[key] = new
        if old != new:
            for uid in sorted(self._referrers.get(key, ())):
                self._owner.calendar_changed(uid)

    def _read(self, key: Key, event_type: str | None, obj: dict[str, Any]) -> Any:
        if event_type == "DELETED":
            return None
        rv = resource_version(obj)
        known = self._rvs.get(key)
        if rv is not None and known is not None and rv <= known:
            return _UNCHANGED
        if rv is not None:
            self._rvs[key] = rv
        return read_calendar(obj.get("spec"))

    def clear(self) -> None:
        self.calendars.clear()
        self._rvs.clear()

    # -- tasks ---------------------------------------------------------------------

    def track(self, uid: str, namespace: str, names: Iterable[str]) -> None:
        """The task `uid` (of `namespace`) now names these calendars."""
        keys = tuple(dict.fromkeys((namespace, n) for n in names))[:MAX_REFS]
        if self._refs.get(uid, ()) == keys:
            return
        self.untrack(uid)
        if not keys:
            return
        self._refs[uid] = keys
        for key in keys:
            self._referrers.setdefault(key, set()).add(uid)

    def untrack(self, uid: str) -> None:
        for key in self._refs.pop(uid, ()):
            referrers = self._referrers.get(key)
            if referrers is not None:
                referrers.discard(uid)
                if not referrers:
                    del self._referrers[key]

    def referrers(self, namespace: str, name: str) -> frozenset[str]:
        """The tasks that name this calendar."""
        return frozenset(self._referrers.get((namespace, name), ()))

    def view(self, namespace: str, names: Iterable[str]) -> Mapping[str, CalendarState]:
        """The states of the named calendars of `namespace` that exist."""
        found: dict[str, CalendarState] = {}
        for name in names:
            state = self.calendars.get((namespace, name))
            if state is not None:
                found[name] = state
        return found


_UNCHANGED: Any = object()
