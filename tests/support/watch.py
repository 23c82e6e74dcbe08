"""A watch that survives API server restarts, the way real controllers' watches do.

``kubernetes.aio.watch.Watch`` reconnects only when the server ends a stream cleanly. When
the API server dies, the next request fails outright; when it comes back, its watch cache
starts afresh and an old resourceVersion may be answered with 410 Gone. client-go's
reflector and kopf handle both by reconnecting from the last resourceVersion seen and
relisting on 410; ``resuming_watch`` does the same so tests can check that an operator's
view of the cluster recovers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes.aio import watch as aio_watch
from kubernetes.aio.client.exceptions import ApiException


@dataclass
class WatchStats:
    """How often the stream had to be re-established (and from scratch)."""

    reconnects: int = 0
    relists: int = 0
    last_error: str = ""


async def resuming_watch(
    list_func: Callable[..., Awaitable[Any]],
    *,
    stats: WatchStats | None = None,
    retry_interval: float = 0.2,
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Yield watch events forever, resuming after errors; ``event["object"]`` is the model
    (``V1ConfigMap``...).

    ``list_func`` is a kubernetes.aio list call such as
    ``CoreV1Api.list_namespaced_config_map``; ``kwargs`` are its arguments. The initial
    list (and every relist) yields its items as synthetic ``ADDED`` events.
    """
    stats = stats if stats is not None else WatchStats()
    resource_version: str | None = None
    while True:
        watcher = aio_watch.Watch()  # type: ignore[no-untyped-call]
        try:
            if resource_version is None:
                listing = await list_func(**kwargs)
                resource_version = listing.metadata.resource_version
                for item in listing.items:
                    yield {"type": "ADDED", "object": item}
            stream = watcher.stream(  # type: ignore[no-untyped-call]
                list_func,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                **kwargs,
            )
            async for event in stream:
                resource_version = watcher.resource_version or resource_version
                if event["type"] != "BOOKMARK":
                    yield event
        except ApiException as exc:
            if exc.status == 410:  # our resourceVersion is gone: start from a new list
                resource_version = None
                stats.relists += 1
            stats.reconnects += 1
            stats.last_error = f"ApiException {exc.status}: {exc.reason}"
            await asyncio.sleep(retry_interval)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            stats.reconnects += 1
            stats.last_error = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(retry_interval)
        finally:
            await watcher.close()  # type: ignore[no-untyped-call]
