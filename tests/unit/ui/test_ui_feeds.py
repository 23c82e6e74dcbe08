"""Shared feeds: list once, watch, list again when the watch is too old, report refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ui_support import MemoryApi, task_obj

from kron.k8s.api import ApiError
from kron.ui.feeds import EVENTS, TASKS, FeedKey, Feeds

KEY = FeedKey("local", TASKS, "team")


async def until(predicate: Callable[[], bool], what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.01)


async def test_a_watch_that_ends_is_resumed_and_a_too_old_one_lists_again() -> None:
    api = MemoryApi()
    api.put(task_obj("a"))
    feeds = Feeds(linger=0)
    async with feeds.use(KEY, api) as feed:  # type: ignore[arg-type]
        assert set(feed.objects) == {"team/a"}
        await until(lambda: api.open_watches == 1, "the watch")
        api.end_watches()  # the server's timeout
        await until(lambda: len(api.watch_calls) == 2, "a second watch")
        assert len(api.list_calls) == 1

        for _, queue in api._watchers:
            queue.put_nowait({"type": "ERROR", "object": {"code": 410, "reason": "Expired"}})
        api.tasks["team/b"] = task_obj("b")  # happened while nobody watched
        await until(lambda: "team/b" in feed.objects, "the relist")
        assert len(api.list_calls) == 2 and feed.live
    await feeds.close()


async def test_a_refusal_is_reported_and_retried() -> None:
    api = MemoryApi()
    api.refuse_list = ApiError(403, "Forbidden", 'User "bob" cannot list "scheduledtasks"')
    feeds = Feeds(linger=0)
    async with feeds.use(KEY, api) as feed:  # type: ignore[arg-type]
        assert feed.error == 'forbidden: User "bob" cannot list "scheduledtasks"'
        assert feed.status == 403 and not feed.live
        api.refuse_list = None
        api.put(task_obj("a"))
        await until(lambda: feed.live, "the retry after the backoff", within=15)
        assert "team/a" in feed.objects
    await feeds.close()


async def test_feeds_are_per_identity_and_stop_after_the_last_user_lingers() -> None:
    api = MemoryApi()
    feeds = Feeds(linger=0.05)
    async with feeds.use(KEY, api), feeds.use(FeedKey("t:other", TASKS, "team"), api):  # type: ignore[arg-type]
        assert feeds.stats()["feeds"] == 2
    await until(lambda: feeds.stats()["feeds"] == 0, "both feeds stopped")
    await until(lambda: api.open_watches == 0, "their watches closed")


async def test_events_beyond_the_bound_push_out_the_oldest_and_extra_tasks_are_counted() -> None:
    api = MemoryApi()
    for i in range(5):
        api.put(task_obj(f"t{i}"))
        api.put(
            {
                "kind": "Event",
                "metadata": {"name": f"e{i}", "namespace": "team", "managedFields": [{}]},
                "involvedObject": {"kind": "ScheduledTask", "name": "t0", "namespace": "team"},
            }
        )
    feeds = Feeds(linger=0, max_objects=3)
    async with (
        feeds.use(KEY, api) as tasks,
        feeds.use(  # type: ignore[arg-type]
            FeedKey("local", EVENTS, "team"),
            api,  # type: ignore[arg-type]
        ) as events,
    ):
        assert (len(tasks.objects), tasks.dropped) == (3, 2)
        assert sorted(events.objects) == ["team/e2", "team/e3", "team/e4"]
        assert "managedFields" not in events.objects["team/e4"]["metadata"]
    await feeds.close()
