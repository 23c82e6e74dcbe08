"""kron ui's live updates (server-sent events), through HTTP: what they push, that it is
exactly what a reload shows, and that tabs share one watch."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import jinja2
import pytest
from aiohttp import ClientResponse
from ui_http import Start, next_update
from ui_support import MemoryApi, task_obj

from kron.ui.feeds import Feeds
from kron.ui.security import AuthMode, Gate
from kron.ui.server import Ui, UiSettings

ZONE_WITH_A_PLUS = "Etc/GMT+5"  # a `+` in a query string reads as a space


def stream_of(page: str) -> str:
    found = re.search(r'data-stream="([^"]*)"', page)
    assert found and found.group(1), "the page names no stream"
    return html.unescape(found.group(1))


async def first_update(served: Any, page: str) -> dict[str, Any]:
    stream: ClientResponse = await served.client.get(stream_of(page))
    assert stream.status == 200 and stream.headers["Content-Type"] == "text/event-stream"
    try:
        return await next_update(stream)
    finally:
        stream.close()


async def test_the_stream_pushes_the_new_row_when_a_task_appears(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    stream = await served.client.get("/stream/ns/team?view=list")
    assert stream.headers["Content-Type"] == "text/event-stream"
    first = await next_update(stream)
    assert 'data-name="nightly"' in first["regions"]["rows"]

    api.put(task_obj("late", "*/5 * * * *"))

    update = await next_update(stream)
    while 'data-name="late"' not in update["regions"]["rows"]:
        update = await next_update(stream)
    assert "every 5 minutes" in update["regions"]["rows"]
    stream.close()


async def test_streams_share_one_watch_that_stops_when_the_last_one_closes(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    streams = [await served.client.get("/stream/ns/team?view=list") for _ in range(3)]
    for stream in streams:
        await next_update(stream)
    assert api.watch_calls.count("/apis/kron.dev/v1alpha1/namespaces/team/scheduledtasks") == 1
    health = await (await served.client.get("/healthz")).json()
    assert (health["feeds"], health["listeners"]) == (1, 3)

    for stream in streams:
        stream.close()

    for _ in range(200):
        if api.open_watches == 0:
            break
        await asyncio.sleep(0.05)
    assert api.open_watches == 0
    assert (await (await served.client.get("/healthz")).json())["feeds"] == 0


async def test_the_task_stream_says_when_the_task_is_deleted(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    stream = await served.client.get("/stream/ns/team?view=task&task=nightly")
    first = await next_update(stream)
    assert set(first["regions"]) == {
        "task-summary", "task-actions", "task-upcoming", "task-history", "task-events"
    }  # fmt: skip
    api.delete("team", "nightly")
    update = await next_update(stream)
    assert update["gone"] == "scheduledtask nightly was deleted"
    stream.close()


# -- what a stream pushes is what a reload shows ------------------------------------------


def herd_of_tasks() -> MemoryApi:
    api = MemoryApi()
    api.put(task_obj("nightly", "*/30 * * * *"))
    api.put(task_obj("hourly", "0 * * * *", timeZone="Europe/Berlin"))
    api.put(
        {
            "kind": "Event",
            "metadata": {"name": "nightly.1", "namespace": "team"},
            "involvedObject": {"kind": "ScheduledTask", "name": "nightly", "namespace": "team"},
            "type": "Normal",
            "reason": "Fired",
            "message": "created Job nightly-1",
            "lastTimestamp": "2026-11-29T00:00:00Z",
        }
    )
    return api


async def test_the_timeline_stream_links_each_busy_minutes_tasks(serve: Start) -> None:
    served = await serve(herd_of_tasks())
    status, page = await served.page("/ns/team/timeline")
    assert status == 200
    update = await first_update(served, page)
    herds = update["regions"]["herds"]
    assert 'href="/ns/team/tasks/nightly"' in herds
    assert 'href="/ns/team/tasks/hourly"' in herds
    assert "jinja2" not in herds and "Namespace" not in herds


async def test_a_zone_with_a_plus_sign_reaches_the_stream_intact(serve: Start) -> None:
    served = await serve(herd_of_tasks())
    status, page = await served.page(f"/ns/team/timeline?tz={ZONE_WITH_A_PLUS.replace('+', '%2B')}")
    assert status == 200 and f"({ZONE_WITH_A_PLUS})" in page
    assert "tz=Etc%2FGMT%2B5" in stream_of(page)
    update = await first_update(served, page)
    assert f"({ZONE_WITH_A_PLUS})" in update["regions"]["herds"]


async def test_every_region_a_stream_pushes_is_what_the_page_shows(serve: Start) -> None:
    """Page and stream render the same region templates, each from its own context: a
    variable one of them forgets (or a link built differently) shows up here."""
    api = herd_of_tasks()
    served = await serve(api)
    pages = [
        "/ns/team",
        "/all",
        "/ns/team/tasks/nightly",
        "/ns/team/tasks/hourly?from=2027-03-25&days=5",
        f"/ns/team/timeline?tz={ZONE_WITH_A_PLUS.replace('+', '%2B')}",
    ]
    for path in pages:
        status, page = await served.page(path)
        assert status == 200, path
        update = await first_update(served, page)
        assert update["regions"], path
        for name, region in update["regions"].items():
            assert f'data-region="{name}"' in page, (path, name)
            assert region in page, f"{path}: the stream's {name} differs from the page's"


def test_a_variable_a_context_forgets_fails_instead_of_meaning_a_jinja2_global() -> None:
    ui = Ui(gate=Gate(AuthMode.KUBECONFIG, MemoryApi()), feeds=Feeds(), settings=UiSettings())  # type: ignore[arg-type]
    for name in ("namespace", "range", "dict", "lipsum", "cycler", "joiner"):
        with pytest.raises(jinja2.UndefinedError):
            ui.env.from_string(f"<a href='/ns/{{{{ {name} }}}}'>").render()
    assert ui.env.from_string("{{ 'a/b?c#d%'|segment }}").render() == "a%2Fb%3Fc%23d%25"
