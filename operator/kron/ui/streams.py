"""The live updates of `kron ui`: server-sent events that push re-rendered regions.

A stream listens to the same shared feeds the page was rendered from and, after each
burst of changes, renders the page's regions again from the same context functions,
so what it pushes is exactly what a reload would show.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kron.dns1123 import is_subdomain
from kron.ui.feeds import EVENTS, TASKS, Feed, FeedKey
from kron.ui.pages import (
    LIST_REGIONS,
    TASK_REGIONS,
    TIMELINE_REGIONS,
    Window,
    chart_zone,
    find_task,
    herd_context,
    list_context,
    task_context,
)
from kron.ui.security import Identity, Refused
from kron.ui.server import _identity, _namespace, _ui


def _sse(event: str, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n".encode()


@dataclass(frozen=True, slots=True)
class Subject:
    """What one stream follows: a view of a namespace (or of all), and its query."""

    view: str
    namespace: str | None
    task: str
    window: Window
    zone: dt.tzinfo
    zone_name: str

    @classmethod
    def read(cls, request: web.Request) -> Subject:
        namespace = _namespace(request) if "ns" in request.match_info else None
        view = request.query.get("view", "list")
        name = request.query.get("task", "") if view == "task" else ""
        if view not in ("list", "task", "timeline"):
            raise Refused(400, "Bad stream", f"unknown view {view!r}")
        if view != "list" and namespace is None:
            raise Refused(400, "Bad stream", f"a {view} stream needs a namespace")
        if view == "task" and not is_subdomain(name):
            raise Refused(400, "Bad stream", "not a task name")
        zone, zone_name, _ = chart_zone(request.query)
        return cls(view, namespace, name, Window.parse(request.query), zone, zone_name)

    def feeds(self, identity: Identity) -> list[FeedKey]:
        keys = [FeedKey(identity.key, TASKS, self.namespace)]
        if self.view == "task":
            keys.append(FeedKey(identity.key, EVENTS, self.namespace))
        return keys


async def update(
    request: web.Request, subject: Subject, feeds: list[Feed], now: float
) -> dict[str, Any]:
    """The payload of one update: the regions of the page, rendered afresh."""
    ui, identity = _ui(request), _identity(request)
    tasks, namespace = feeds[0], subject.namespace
    payload: dict[str, Any] = {"live": tasks.error or "", "regions": {}}
    if subject.view == "list":
        content = list_context(tasks, now, all_namespaces=namespace is None)
        payload["regions"] = ui.regions(LIST_REGIONS, content)
        return payload
    assert namespace is not None
    if subject.view == "timeline":
        content = herd_context(tasks, now, namespace, subject.zone, subject.zone_name)
        payload["regions"] = ui.regions(TIMELINE_REGIONS, content)
        return payload
    task = find_task(tasks, namespace, subject.task, now)
    if task is None:
        payload["gone"] = f"scheduledtask {subject.task} was deleted"
        return payload
    access = await ui.directory.may_patch(identity, namespace, subject.task)
    context = task_context(task, feeds[1], access, subject.window, now)
    context["csrf"] = ui.gate.csrf_token(identity)
    payload["regions"] = ui.regions(TASK_REGIONS, context)
    return payload


async def stream(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    subject = Subject.read(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    async with ui.feeds.listen(subject.feeds(identity), identity.api) as (listener, feeds):
        while True:
            try:
                await asyncio.wait_for(listener.changed.wait(), ui.settings.heartbeat)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            await asyncio.sleep(ui.settings.debounce)  # one update for a burst of changes
            listener.take()
            if not all(f.synced.is_set() for f in feeds):
                continue
            payload = await update(request, subject, feeds, ui.settings.clock())
            await response.write(_sse("update", payload))
