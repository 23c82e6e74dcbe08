"""What each imperative verb writes to a task, and what it says about it.

`kron trigger|suspend|resume|backfill` and the buttons of `kron ui` both go through
these functions, so a click and a command line write the same merge patch (the
``spec.suspend`` field and the ``kron.dev/run-now``, ``kron.dev/backfill`` and
``kron.dev/resume`` annotations of api.md) and refuse the same requests. Pure: a
task object as read from the API server in, an `Action` out; the caller sends the
patch with its own credentials, so RBAC decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kron.api import format_time
from kron.api.constants import ANN_BACKFILL, ANN_RESUME, ANN_RUN_NOW
from kron.cli.errors import CliError
from kron.cli.manifest import parse_task
from kron.cli.timefmt import format_instant
from kron.planner import CalendarState, timeline_for
from kron.planner.requests import BACKFILL_LIMIT, FORCE_PREFIX, parse_interval
from kron.schedule import ScheduleError, load_zone, manual_run_name

Object = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    """One verb's effect: the merge patch (None: nothing to write) and its report.

    ``lines`` are what the CLI prints once the patch is written; ``run`` names the
    run the operator will create (run-now), ``ticks`` counts a backfill's ticks.
    """

    verb: str
    task: str
    patch: Object | None
    lines: list[str] = field(default_factory=list)
    run: str | None = None
    ticks: int | None = None


def new_token(now: float) -> str:
    """A run-now/resume token nobody used before: UTC time plus random hex."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def ref(name: str) -> str:
    return f"scheduledtask.kron.dev/{name}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def annotations_of(obj: Object) -> dict[str, Any]:
    return _dict(_dict(obj.get("metadata")).get("annotations"))


def handled_of(obj: Object) -> dict[str, Any]:
    return _dict(_dict(obj.get("status")).get("handledRequests"))


def ready_reason(obj: Object) -> str | None:
    for condition in _dict(obj.get("status")).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            reason = condition.get("reason")
            return str(reason) if reason else None
    return None


# -- run now ---------------------------------------------------------------------------


def trigger_action(obj: Object, name: str, token: str, *, force: bool) -> Action:
    """Set ``kron.dev/run-now`` to ``token`` (``force:`` prefixed when ``force``)."""
    if force and not token.startswith(FORCE_PREFIX):
        token = FORCE_PREFIX + token
    if token in (annotations_of(obj).get(ANN_RUN_NOW), handled_of(obj).get("runNow")):
        raise CliError(
            f"{ref(name)}: token {token!r} was already used ({ANN_RUN_NOW}); the operator "
            "fires once per new token: choose another or leave out --token"
        )
    run = manual_run_name(name, token)
    policy = str(_dict(obj.get("spec")).get("concurrencyPolicy") or "Allow")
    held = (
        ""
        if token.startswith(FORCE_PREFIX) or policy == "Allow"
        else f" (concurrencyPolicy {policy} applies; --force overrides it)"
    )
    return Action(
        "trigger",
        name,
        {"metadata": {"annotations": {ANN_RUN_NOW: token}}},
        [f"{ref(name)} triggered: {ANN_RUN_NOW}={token}", f"run: {run}{held}"],
        run=run,
    )


# -- suspend and resume ----------------------------------------------------------------


def suspend_action(obj: Object, name: str) -> Action:
    """Set ``spec.suspend: true``; nothing to write when it already is."""
    if _dict(obj.get("spec")).get("suspend") is True:
        return Action("suspend", name, None, [f"{ref(name)} already suspended (no change)"])
    return Action(
        "suspend",
        name,
        {"spec": {"suspend": True}},
        [f"{ref(name)} suspended (spec.suspend: false -> true)"],
    )


def resume_action(obj: Object, name: str, token: str) -> Action:
    """Clear ``spec.suspend`` and set a fresh ``kron.dev/resume`` (ends TooManyFailures)."""
    was_suspended = _dict(obj.get("spec")).get("suspend") is True
    held = ready_reason(obj) == "TooManyFailures"
    return Action(
        "resume",
        name,
        {"spec": {"suspend": False}, "metadata": {"annotations": {ANN_RESUME: token}}},
        [
            f"{ref(name)} resumed",
            "spec.suspend: true -> false"
            if was_suspended
            else "spec.suspend: already false (no change)",
            f"{ANN_RESUME}={token}: "
            + (
                "clears the TooManyFailures hold"
                if held
                else "would clear a TooManyFailures hold (there is none now)"
            ),
        ],
    )


# -- backfill --------------------------------------------------------------------------


def backfill_value(start: datetime, end: datetime) -> tuple[str, int, int]:
    """The annotation value for ``[start, end]`` and its bounds as the operator reads them."""
    if end < start:
        raise CliError(f"--to {format_time(end)} is before --from {format_time(start)}")
    value = f"{format_time(start)}/{format_time(end)}"
    try:
        first, last = parse_interval(value)  # exactly as the operator will read it
    except ValueError as err:
        raise CliError(f"{ANN_BACKFILL}={value}: {err}") from None
    return value, first, last


def backfill_action(
    obj: Object,
    name: str,
    start: datetime,
    end: datetime,
    now: float,
    *,
    calendars: Mapping[str, CalendarState] | None = None,
) -> Action:
    """Set ``kron.dev/backfill`` after counting the interval's ticks on the task's timeline.

    Refuses an interval without ticks, one holding more than the operator accepts, and
    a value already requested.
    """
    value, first, last = backfill_value(start, end)
    task = parse_task(obj, ref(name))
    try:
        zone = load_zone(task.spec.time_zone)
        timeline = timeline_for(task.spec, task.metadata.uid or "", calendars)
    except ScheduleError as err:
        raise CliError(f"{ref(name)}: {err}") from None
    total = excluded = future = 0
    for tick in timeline.ticks(first - 1, last):
        total += 1
        if tick.excluded:
            excluded += 1
        elif tick.nominal > now:
            future += 1
        if total > BACKFILL_LIMIT:
            raise CliError(
                f"{value} holds more than {BACKFILL_LIMIT} ticks of {ref(name)}; the "
                "operator refuses backfills that large: split the interval"
            )
    runs = total - excluded - future
    shown = f"{format_instant(first, zone)} to {format_instant(last, zone)}"
    if total == 0:
        raise CliError(f"no tick of {ref(name)} from {shown}: nothing to backfill")
    if value in (annotations_of(obj).get(ANN_BACKFILL), handled_of(obj).get("backfill")):
        raise CliError(
            f"{ref(name)}: {ANN_BACKFILL}={value} was already requested; the operator "
            "acts once per value"
        )
    parts = [f"{runs} to run"]
    if excluded:
        parts.append(f"{excluded} excluded (recorded, not run)")
    if future:
        parts.append(f"{future} not due yet (left to the schedule)")
    return Action(
        "backfill",
        name,
        {"metadata": {"annotations": {ANN_BACKFILL: value}}},
        [
            f"{ref(name)}: {ANN_BACKFILL}={value}",
            f"covers {total} tick{'s' if total != 1 else ''} from {shown}: " + ", ".join(parts),
        ],
        ticks=total,
    )
