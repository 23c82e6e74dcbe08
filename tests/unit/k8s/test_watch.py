"""kron's own watch of its runs: list, watch from the list's version, relist on 410."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kron.k8s import watch as watch_module
from kron.k8s.api import ApiError, KubeApi, Listing
from kron.k8s.shards import SHARD_BUCKETS, bucket_of, run_selector, shard_of
from kron.k8s.stream import events as _events
from kron.k8s.watch import CollectionWatch


def obj(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": rv}}


class Server(KubeApi):
    """A collection with a list, and a script of watch answers (one list per request)."""

    def __init__(self, items: list[dict[str, Any]], watches: list[list[Any]]) -> None:
        self.items = items
        self.watches = watches
        self.queries: list[list[tuple[str, str]]] = []
        self.listed = 0

    async def list_pages(
        self, path: str, *, label_selector: str | None = None, page: int = 500
    ) -> AsyncIterator[Listing]:
        self.listed += 1
        yield Listing(list(self.items), str(100 * self.listed))

    async def watch(
        self,
        path: str,
        *,
        resource_version: str,
        timeout_seconds: int = 300,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        self.queries.append(
            [("resourceVersion", resource_version), ("labelSelector", label_selector or "")]
        )
        if not self.watches:
            await asyncio.Event().wait()  # no more scripted answers: hang like a quiet watch
        for step in self.watches.pop(0):
            if isinstance(step, Exception):
                raise step
            yield step


def watch(server: Server) -> tuple[CollectionWatch, list[Any], list[set[tuple[str, str]]]]:
    seen: list[Any] = []
    relists: list[set[tuple[str, str]]] = []
    w = CollectionWatch(
        server,
        "/apis/batch/v1/jobs",
        label_selector="kron.dev/task-uid",
        handle=lambda kind, o: seen.append((kind, o["metadata"]["name"])),
        relisted=relists.append,
    )
    return w, seen, relists


async def run_until(w: CollectionWatch, done: Any) -> None:
    task = asyncio.create_task(w.run())
    try:
        for _ in range(200):
            if done():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the watch did not get there")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_it_lists_then_watches_from_the_lists_version() -> None:
    server = Server(
        [obj("a", "5")],
        [
            [
                {"type": "ADDED", "object": obj("b", "101")},
                {"type": "DELETED", "object": obj("a", "102")},
            ]
        ],
    )
    w, seen, _ = watch(server)
    await w.list()
    assert seen == [(None, "a")]
    await run_until(w, lambda: len(seen) == 3)
    assert seen == [(None, "a"), ("ADDED", "b"), ("DELETED", "a")]
    first = dict(server.queries[0])
    assert first["resourceVersion"] == "100"
    assert first["labelSelector"] == "kron.dev/task-uid"


async def test_bookmarks_move_the_version_and_a_restart_resumes_from_it() -> None:
    bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "150"}}}
    server = Server([], [[bookmark], []])
    w, seen, _ = watch(server)
    await w.list()
    await run_until(w, lambda: len(server.queries) >= 2)
    assert dict(server.queries[1])["resourceVersion"] == "150"
    assert seen == [] and w.counters.bookmarks == 1


async def test_410_gone_relists_and_reports_which_objects_still_exist() -> None:
    expired = {"type": "ERROR", "object": {"code": 410, "reason": "Expired", "message": "too old"}}
    server = Server([obj("a", "5"), obj("b", "6")], [[expired]])
    w, _, relists = watch(server)
    await w.list()
    server.items = [obj("b", "6")]  # a was deleted while the watch was behind
    await run_until(w, lambda: relists)
    assert relists == [{("ns", "b")}]
    assert server.listed == 2


async def test_an_api_error_retries_the_watch() -> None:
    server = Server([], [[ApiError(0, "ClientConnectorError", "refused")], []])
    w, _, _ = watch(server)
    await w.list()
    await run_until(w, lambda: len(server.queries) >= 2)
    assert w.counters.errors == 1


async def test_a_handler_that_raises_does_not_stop_the_watch() -> None:
    server = Server(
        [],
        [[{"type": "ADDED", "object": obj("x", "1")}, {"type": "ADDED", "object": obj("y", "2")}]],
    )
    names: list[str] = []

    def handle(kind: str | None, o: dict[str, Any]) -> None:
        names.append(o["metadata"]["name"])
        raise RuntimeError("boom")

    w = CollectionWatch(server, "/x", label_selector="s", handle=handle, relisted=lambda _: None)
    await run_until(w, lambda: len(names) == 2)


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_watch_lines_of_any_size_are_split_across_chunks() -> None:
    big = {"type": "ADDED", "object": {"metadata": {"name": "x" * 300_000}}}
    data = (json.dumps(big) + "\n" + '{"type": "DELETED", "object": {}}\n\nnot json\n').encode()
    events = [e async for e in _events(chunks(data, 7919))]
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    assert len(events[0]["object"]["metadata"]["name"]) == 300_000


def test_every_task_is_selected_by_exactly_its_own_shard() -> None:
    uids = [f"uid-{i}" for i in range(2000)]
    for count in (1, 2, 3, 4, 7, 256):
        for uid in uids:
            owners = [i for i in range(count) if _selects(run_selector(i, count), bucket_of(uid))]
            assert owners == [shard_of(uid, count)]


def _selects(selector: str, bucket: int) -> bool:
    if "in (" not in selector:
        return True
    values = selector.split("in (", 1)[1].rstrip(")").split(",")
    return str(bucket) in values


def test_buckets_cover_the_range() -> None:
    assert {bucket_of(f"u{i}") for i in range(20_000)} == set(range(SHARD_BUCKETS))


async def test_an_unexpected_error_in_the_stream_retries_the_watch() -> None:
    """Not only the API's refusals: anything one request raises (an answer kron
    cannot read) ends that request, never the watch (and the replica with it)."""
    server = Server(
        [], [[RuntimeError("unreadable")], [{"type": "ERROR", "object": {"code": "x"}}]]
    )
    w, _, _ = watch(server)
    await w.list()
    await run_until(w, lambda: len(server.queries) >= 3)
    assert w.counters.errors == 2


async def test_a_watch_the_server_ends_at_once_is_not_resent_in_a_tight_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[int] = []

    def delay(attempt: int) -> float:
        waits.append(attempt)
        return 0.0

    monkeypatch.setattr(watch_module, "retry_delay", delay)
    server = Server([], [[], [], []])
    w, _, _ = watch(server)
    await w.list()
    await run_until(w, lambda: len(server.queries) >= 4)
    assert waits[:3] == [0, 1, 2]  # backing off, since none of them made progress
