"""kron ui's live updates (server-sent events), through HTTP: what they push, that it is
exactly what a reload shows, and that tabs share one watch."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from aiohttp import ClientResponse
from ui_http import Start, next_update
from ui_support import MemoryApi, task_obj

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
