"""The plugin verbs: read a task, change its spec or annotations, say what changed.

Each verb writes only what the design's imperative API defines (``spec.suspend``
and the ``kron.dev/run-now``, ``kron.dev/backfill`` and ``kron.dev/resume``
annotations) with a JSON merge patch; the operator does the rest. Nothing here
waits for the operator: the output says what it will do.
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from kron.api import ScheduledTask, ScheduledTaskStatus, format_time
from kron.api.constants import ANN_BACKFILL, ANN_RESUME, ANN_RUN_NOW
from kron.cli import clock
from kron.cli.calendar import calendar_state
from kron.cli.cluster import Object, TaskApi, get_calendars, get_task, patch_task, run_verb
from kron.cli.errors import CliError, UsageError
from kron.cli.local import NextRequest, note, print_listing, write_lines
from kron.cli.manifest import first_problem, parse_task
from kron.cli.render import history_lines, status_lines
from kron.cli.timefmt import display_zone, format_datetime, format_instant
from kron.cli.upcoming import task_times
from kron.planner import CalendarState, timeline_for
from kron.planner.requests import BACKFILL_LIMIT, FORCE_PREFIX, parse_interval
from kron.schedule import ScheduleError, load_zone, manual_run_name


def new_token(now: float) -> str:
    """A run-now/resume token nobody used before: UTC time plus random hex."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _ref(name: str) -> str:
    return f"scheduledtask.kron.dev/{name}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _annotations(obj: Object) -> dict[str, Any]:
    return _dict(_dict(obj.get("metadata")).get("annotations"))


def _handled(obj: Object) -> dict[str, Any]:
    return _dict(_dict(obj.get("status")).get("handledRequests"))


def _status(obj: Object, name: str) -> ScheduledTaskStatus | None:
    raw = obj.get("status")
    if not raw:
        return None
    try:
        return ScheduledTaskStatus.from_api(raw)
    except ValidationError as err:
        raise CliError(f"{_ref(name)}: status.{first_problem(err)}") from None


async def _calendars(api: TaskApi, namespace: str, task: ScheduledTask) -> dict[str, CalendarState]:
    """The task's Calendars from the cluster, read as the operator reads them."""
    objects = await get_calendars(api, namespace, task.spec.calendar_names)
    return {name: calendar_state(obj) for name, obj in objects.items()}


def _valid_task(obj: Object, name: str) -> ScheduledTask:
    """The task parsed; CliError naming the bad field (the operator reports it too)."""
    return parse_task(obj, _ref(name))


# -- next ------------------------------------------------------------------------------


def _status_times(task: ScheduledTask, now: float, count: int) -> list[datetime] | None:
    """The operator's own upcoming times, when they describe the current spec."""
    status = task.status
    if status is None or status.observed_generation != task.metadata.generation:
        return None
    future = [t for t in status.upcoming_schedule_times if t.timestamp() > now]
    return future[:count] if len(future) >= count else None


def next_task_command(args: argparse.Namespace, request: NextRequest) -> int:
    prog = str(args.prog_name)
    name = request.subject

    async def verb(api: TaskApi, namespace: str) -> int:
        task = _valid_task(await get_task(api, namespace, name), name)
        spec, now = task.spec, clock.now()
        if spec.suspend:
            note(prog, "spec.suspend is true: the operator skips these ticks until resumed")
        if request.after is None and not args.show_excluded:
            from_status = _status_times(task, now, request.count)
            if from_status is not None:
                zone = load_zone(spec.time_zone)
                jittered = bool(spec.jitter_seconds)
                write_lines([format_datetime(t, zone, millis=jittered) for t in from_status])
                return 0
            if task.status is None or not task.status.upcoming_schedule_times:
                note(prog, "computed from the spec: the operator has not reported upcoming times")
        after = request.after if request.after is not None else int(now // 1)
        calendars = await _calendars(api, namespace, task)
        try:
            listing = task_times(
                spec,
                task.metadata.uid,
                after,
                request.count,
                show_excluded=args.show_excluded,
                calendars=calendars,
            )
        except ScheduleError as err:
            raise CliError(f"{_ref(name)}: {err}") from None
        print_listing(listing, prog, after)
        return 0

    return run_verb(args, name, verb, namespace=request.namespace)


# -- trigger ---------------------------------------------------------------------------


def trigger_command(args: argparse.Namespace) -> int:
    name: str = args.task
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty", str(args.prog_name))

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        token: str = args.token if args.token is not None else new_token(clock.now())
        if args.force and not token.startswith(FORCE_PREFIX):
            token = FORCE_PREFIX + token
        if token in (_annotations(obj).get(ANN_RUN_NOW), _handled(obj).get("runNow")):
            raise CliError(
                f"{_ref(name)}: token {token!r} was already used ({ANN_RUN_NOW}); the operator "
                "fires once per new token: choose another or leave out --token"
            )
        run = manual_run_name(name, token)
        await patch_task(api, namespace, name, {"metadata": {"annotations": {ANN_RUN_NOW: token}}})
        policy = str(_dict(obj.get("spec")).get("concurrencyPolicy") or "Allow")
        held = (
            ""
            if token.startswith(FORCE_PREFIX) or policy == "Allow"
            else (f" (concurrencyPolicy {policy} applies; --force overrides it)")
        )
        write_lines(
            [
                f"{_ref(name)} triggered: {ANN_RUN_NOW}={token}",
                f"run: {run}{held}",
            ]
        )
        return 0

    return run_verb(args, name, verb)


# -- suspend and resume ----------------------------------------------------------------


def suspend_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        if _dict(obj.get("spec")).get("suspend") is True:
            write_lines([f"{_ref(name)} already suspended (no change)"])
            return 0
        await patch_task(api, namespace, name, {"spec": {"suspend": True}})
        write_lines([f"{_ref(name)} suspended (spec.suspend: false -> true)"])
        return 0

    return run_verb(args, name, verb)


def _ready_reason(obj: Object) -> str | None:
    for condition in _dict(obj.get("status")).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            reason = condition.get("reason")
            return str(reason) if reason else None
    return None


def resume_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        was_suspended = _dict(obj.get("spec")).get("suspend") is True
        token = new_token(clock.now())
        patch = {"spec": {"suspend": False}, "metadata": {"annotations": {ANN_RESUME: token}}}
        await patch_task(api, namespace, name, patch)
        held = _ready_reason(obj) == "TooManyFailures"
        write_lines(
            [
                f"{_ref(name)} resumed",
                "spec.suspend: true -> false"
                if was_suspended
                else "spec.suspend: already false (no change)",
                f"{ANN_RESUME}={token}: "
                + (
                    "clears the TooManyFailures hold"
                    if held
                    else "would clear a TooManyFailures hold (there is none now)"
                ),
            ]
        )
        return 0

    return run_verb(args, name, verb)


# -- backfill --------------------------------------------------------------------------


def backfill_command(args: argparse.Namespace) -> int:
    name: str = args.task
    start: datetime = args.start
    end: datetime = args.end
    if end < start:
        raise CliError(f"--to {format_time(end)} is before --from {format_time(start)}")
    value = f"{format_time(start)}/{format_time(end)}"
    try:
        first, last = parse_interval(value)  # exactly as the operator will read it
    except ValueError as err:
        raise CliError(f"{ANN_BACKFILL}={value}: {err}") from None

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        task = _valid_task(obj, name)
        calendars = await _calendars(api, namespace, task)
        try:
            zone = load_zone(task.spec.time_zone)
            timeline = timeline_for(task.spec, task.metadata.uid or "", calendars)
        except ScheduleError as err:
            raise CliError(f"{_ref(name)}: {err}") from None
        now = clock.now()
        total = excluded = future = 0
        for tick in timeline.ticks(first - 1, last):
            total += 1
            if tick.excluded:
                excluded += 1
            elif tick.nominal > now:
                future += 1
            if total > BACKFILL_LIMIT:
                raise CliError(
                    f"{value} holds more than {BACKFILL_LIMIT} ticks of {_ref(name)}; the "
                    "operator refuses backfills that large: split the interval"
                )
        runs = total - excluded - future
        shown = f"{format_instant(first, zone)} to {format_instant(last, zone)}"
        if total == 0:
            raise CliError(f"no tick of {_ref(name)} from {shown}: nothing to backfill")
        if value in (_annotations(obj).get(ANN_BACKFILL), _handled(obj).get("backfill")):
            raise CliError(
                f"{_ref(name)}: {ANN_BACKFILL}={value} was already requested; the operator "
                "acts once per value"
            )
        await patch_task(api, namespace, name, {"metadata": {"annotations": {ANN_BACKFILL: value}}})
        parts = [f"{runs} to run"]
        if excluded:
            parts.append(f"{excluded} excluded (recorded, not run)")
        if future:
            parts.append(f"{future} not due yet (left to the schedule)")
        write_lines(
            [
                f"{_ref(name)}: {ANN_BACKFILL}={value}",
                f"covers {total} tick{'s' if total != 1 else ''} from {shown}: " + ", ".join(parts),
            ]
        )
        return 0

    return run_verb(args, name, verb)


# -- history and status ----------------------------------------------------------------


def _zone_of(obj: Object) -> ZoneInfo:
    return display_zone(str(_dict(obj.get("spec")).get("timeZone") or "UTC"))


def history_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        write_lines(history_lines(_status(obj, name), _zone_of(obj)))
        return 0

    return run_verb(args, name, verb)


def status_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        generation = _dict(obj.get("metadata")).get("generation")
        lines = status_lines(
            name,
            _dict(obj.get("spec")),
            generation if isinstance(generation, int) else None,
            _status(obj, name),
            _zone_of(obj),
        )
        write_lines(lines)
        return 0

    return run_verb(args, name, verb)
