"""The aiohttp application of `kron ui`: routes, identity, pages, actions, live streams.

Every handler first learns who is asking (`security.Gate`) and then acts only through
that identity's API client, so the API server's RBAC decides what each page shows and
what each button may change. Pages read from the shared feeds (`feeds.Feeds`); the
streams (server-sent events) wake on feed changes and push re-rendered regions.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web

from kron.dns1123 import is_label, is_subdomain
from kron.ui.access import Directory
from kron.ui.feeds import EVENTS, TASKS, FeedKey, FeedLimitError, Feeds
from kron.ui.pages import (
    Window,
    chart_zone,
    find_task,
    herd_context,
    list_context,
    task_context,
)
from kron.ui.security import Gate, Identity, Refused

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class UiSettings:
    default_namespace: str = "default"
    heartbeat: float = 15.0
    debounce: float = 0.3
    clock: Callable[[], float] = time.time


@dataclass
class Ui:
    """Everything a handler needs, kept on the application."""

    gate: Gate
    feeds: Feeds
    settings: UiSettings
    directory: Directory = field(default_factory=Directory)
    env: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
    notices: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        version = static_version()
        # Only names of our own: Jinja2's built-in globals (range, dict, namespace, ...)
        # would stand in for a variable a context forgot (a `namespace` missing from a
        # stream's context rendered as "<class 'jinja2.utils.Namespace'>"); without them
        # StrictUndefined makes such a mistake fail loudly.
        self.env.globals.clear()
        self.env.globals["static"] = lambda name: f"/static/{name}?v={version}"
        self.env.globals["timedelta"] = datetime.timedelta
        self.env.filters["segment"] = segment

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def regions(self, names: tuple[str, ...], context: dict[str, Any]) -> dict[str, str]:
        return {name: self.render(f"regions/{name}.html", **context) for name in names}


UI_KEY = web.AppKey("kron_ui", Ui)
IDENTITY_KEY = web.RequestKey("kron_ui_identity", Identity)


def segment(value: object) -> str:
    """One URL path segment (a name from an object): ``/``, ``?``, ``#`` and ``%`` escaped."""
    return quote(str(value), safe="")


def stream_url(namespace: str | None, **query: str) -> str:
    path = f"/stream/ns/{quote(namespace, safe='')}" if namespace else "/stream/all"
    return f"{path}?{urlencode(query)}"


def static_version() -> str:
    """A digest of the static files, so a browser never runs an old script with a new page."""
    digest = hashlib.sha256()
    for path in sorted((HERE / "static").iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _ui(request: web.Request) -> Ui:
    return request.app[UI_KEY]


def _identity(request: web.Request) -> Identity:
    return request[IDENTITY_KEY]


def _namespace(request: web.Request) -> str:
    namespace = request.match_info["ns"]
    if not is_label(namespace):
        raise Refused(404, "Not found", f"{namespace!r} is not a namespace name.")
    return namespace


def _task_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not is_subdomain(name):
        raise Refused(404, "Not found", f"{name!r} is not a task name.")
    return name


async def page_context(request: web.Request, namespace: str | None) -> dict[str, Any]:
    """What every page shows around its content: who, where, the form token."""
    ui, identity = _ui(request), _identity(request)
    who, namespaces = await asyncio.gather(
        ui.directory.name_of(identity), ui.directory.namespaces(identity)
    )
    return {
        "who": who,
        "namespace": namespace,
        "namespaces": namespaces,
        "default_namespace": ui.settings.default_namespace,
        "csrf": ui.gate.csrf_token(identity),
        "mode": ui.gate.mode.value,
        "stream": "",
        "notice": None,
    }


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def error_page(ui: Ui, status: int, title: str, message: str) -> web.Response:
    return html(ui.render("error.html", title=title, message=message, status=status), status)


# -- middleware ------------------------------------------------------------------------


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    ui = _ui(request)
    try:
        ui.gate.check_peer(request)
        if not request.path.startswith("/static/") and request.path != "/healthz":
            launched = ui.gate.launch(request)
            if launched is not None:
                return launched
            request[IDENTITY_KEY] = ui.gate.identify(request)
        response = await handler(request)
    except Refused as refused:
        response = error_page(ui, refused.status, refused.title, refused.message)
    except FeedLimitError as err:
        response = error_page(ui, 503, "Too busy", str(err))
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- pages -----------------------------------------------------------------------------


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/ns/{_ui(request).settings.default_namespace}")


async def switch_namespace(request: web.Request) -> web.StreamResponse:
    wanted = request.query.get("ns", "").strip()
    if wanted == "":
        raise web.HTTPFound("/all")
    if not is_label(wanted):
        raise Refused(400, "Not a namespace", f"{wanted!r} is not a namespace name.")
    raise web.HTTPFound(f"/ns/{wanted}")


async def task_list(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    namespace = _namespace(request) if "ns" in request.match_info else None
    key = FeedKey(identity.key, TASKS, namespace)
    async with ui.feeds.use(key, identity.api) as feed:
        if feed.error and not feed.objects:
            message = feed.error
            if namespace is None and feed.status == 403:
                message += (
                    ". Listing every namespace needs cluster-wide rights; the start page "
                    "shows your own namespace."
                )
            status = 502 if feed.status == 0 else feed.status
            return error_page(ui, status, "Cannot list tasks", message)
        content = list_context(feed, ui.settings.clock(), all_namespaces=namespace is None)
        context = {**await page_context(request, namespace), **content}
    context["stream"] = stream_url(namespace, view="list")
    return html(ui.render("list.html", **context))


async def _task_context(
    request: web.Request, namespace: str, name: str, window: Window
) -> dict[str, Any] | None:
    ui, identity = _ui(request), _identity(request)
    now = ui.settings.clock()
    tasks_key = FeedKey(identity.key, TASKS, namespace)
    events_key = FeedKey(identity.key, EVENTS, namespace)
    async with (
        ui.feeds.use(tasks_key, identity.api) as tasks,
        ui.feeds.use(events_key, identity.api) as events,
    ):
        if tasks.error and not tasks.objects:
            raise Refused(
                502 if tasks.status == 0 else tasks.status, "Cannot read tasks", tasks.error
            )
        view = find_task(tasks, namespace, name, now)
        if view is None:
            return None
        access = await ui.directory.may_patch(identity, namespace, name)
        return task_context(view, events, access, window, now)


async def task_page(request: web.Request) -> web.StreamResponse:
    ui = _ui(request)
    namespace, name = _namespace(request), _task_name(request)
    window = Window.parse(request.query)
    content = await _task_context(request, namespace, name, window)
    if content is None:
        return error_page(
            ui, 404, "No such task", f'scheduledtask "{name}" not found in namespace "{namespace}"'
        )
    context = {**await page_context(request, namespace), **content}
    context["stream"] = stream_url(namespace, view="task", task=name, **window.query())
    notice = ui.notices.pop(request.query.get("notice", ""), None)
    if notice is not None and notice[0] == _identity(request).key:
        context["notice"] = notice[1]
    return html(ui.render("task.html", **context))


async def timeline_page(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    namespace = _namespace(request)
    zone, zone_name, problem = chart_zone(request.query)
    async with ui.feeds.use(FeedKey(identity.key, TASKS, namespace), identity.api) as feed:
        if feed.error and not feed.objects:
            return error_page(
                ui, 502 if feed.status == 0 else feed.status, "Cannot list tasks", feed.error
            )
        content = herd_context(feed, ui.settings.clock(), namespace, zone, zone_name)
    context = {**await page_context(request, namespace), **content, "zone_problem": problem}
    context["stream"] = stream_url(namespace, view="timeline", tz=zone_name)
    return html(ui.render("timeline.html", **context))


async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True, **_ui(request).feeds.stats()})


# -- the application -------------------------------------------------------------------


def build_app(gate: Gate, feeds: Feeds, settings: UiSettings) -> web.Application:
    from kron.ui import actions_page, runs, streams  # noqa: PLC0415 (they import this module)

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app[UI_KEY] = Ui(gate=gate, feeds=feeds, settings=settings)
    app.router.add_get("/", home)
    app.router.add_get("/go", switch_namespace)
    app.router.add_get("/all", task_list)
    app.router.add_get("/ns/{ns}", task_list)
    app.router.add_get("/ns/{ns}/timeline", timeline_page)
    app.router.add_get("/ns/{ns}/tasks/{name}", task_page)
    app.router.add_get("/ns/{ns}/tasks/{name}/{action}", actions_page.confirm)
    app.router.add_post("/ns/{ns}/tasks/{name}/{action}", actions_page.perform)
    app.router.add_get("/ns/{ns}/runs/{kind}/{name}", runs.run_page)
    app.router.add_get("/stream/all", streams.stream)
    app.router.add_get("/stream/ns/{ns}", streams.stream)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", HERE / "static", append_version=True)

    async def close_feeds(_: web.Application) -> None:
        await feeds.close()

    app.on_cleanup.append(close_feeds)
    return app
