"""The plugin verbs: read a task, change its spec or annotations, say what changed.

Each verb writes only what the design's imperative API defines (``spec.suspend``
and the ``kron.dev/run-now``, ``kron.dev/backfill`` and ``kron.dev/resume``
annotations) with a JSON merge patch; the operator does the rest. Nothing here
waits for the operator: the output says what it will do.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from kron.api import ScheduledTask, ScheduledTaskStatus
from kron.cli import clock
from kron.cli.actions import (
    Action,
    backfill_action,
    backfill_value,
    new_token,
    resume_action,
    suspend_action,
    trigger_action,
)
from kron.cli.actions import ref as _ref
from kron.cli.calendar import calendar_state
from kron.cli.cluster import Object, TaskApi, get_calendars, get_task, patch_task, run_verb
from kron.cli.errors import CliError, UsageError
from kron.cli.local import NextRequest, note, print_listing, write_lines
from kron.cli.manifest import first_problem, parse_task
from kron.cli.render import history_lines, status_lines
from kron.cli.timefmt import display_zone, format_datetime
from kron.cli.upcoming import task_times
from kron.planner import CalendarState
from kron.schedule import ScheduleError, load_zone


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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


# -- trigger, suspend, resume, backfill: the patches come from kron.cli.actions --------


async def _apply(api: TaskApi, namespace: str, action: Action) -> int:
    if action.patch is not None:
        await patch_task(api, namespace, action.task, action.patch)
    write_lines(action.lines)
    return 0


def trigger_command(args: argparse.Namespace) -> int:
    name: str = args.task
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty", str(args.prog_name))

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        token: str = args.token if args.token is not None else new_token(clock.now())
        return await _apply(api, namespace, trigger_action(obj, name, token, force=args.force))

    return run_verb(args, name, verb)


def suspend_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        return await _apply(
            api, namespace, suspend_action(await get_task(api, namespace, name), name)
        )

    return run_verb(args, name, verb)


def resume_command(args: argparse.Namespace) -> int:
    name: str = args.task

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        return await _apply(api, namespace, resume_action(obj, name, new_token(clock.now())))

    return run_verb(args, name, verb)


def backfill_command(args: argparse.Namespace) -> int:
    name: str = args.task
    start: datetime = args.start
    end: datetime = args.end
    backfill_value(start, end)  # a bad interval is refused before connecting

    async def verb(api: TaskApi, namespace: str) -> int:
        obj = await get_task(api, namespace, name)
        calendars = await _calendars(api, namespace, _valid_task(obj, name))
        return await _apply(
            api, namespace, backfill_action(obj, name, start, end, clock.now(), calendars=calendars)
        )

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
