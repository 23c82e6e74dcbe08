"""The /metrics page, rendered off the event loop and shared by concurrent scrapes.

Rendering the text format is pure Python and grows with the series (about 0.3 s and
2.3 MB for 10,000 tasks with per-task metrics, 1.6 s for 50,000): on the event loop it
would delay every due run and the Lease renewal by that much, once per scrape. So one
worker thread renders (and gzips) the page; every scrape that arrives while it renders
waits for that same rendering, and a finished rendering is served as it is for
`cache_seconds` after it finished. However many scrapes arrive, the registry is
rendered at most once per (`cache_seconds` + one rendering), and never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest

from kron.http.guard import Clock

METRICS_CACHE_SECONDS = 1.0
"""A rendering of /metrics is served for this long after it finished. Prometheus
scrapes every 15-60 s, so it always gets a fresh page; a flood of scrapes gets the
same one."""

RENDER_SWITCH_INTERVAL = 0.001
"""While a rendering runs, the interpreter offers the GIL to the other threads every
1 ms instead of Python's 5 ms. The event loop's thread gives the GIL up at every
socket call and then waits for the rendering thread to offer it back: at 5 ms, a
loop busy with sockets slows to a crawl for as long as a rendering lasts."""

GZIP_LEVEL = 6
"""The text format compresses about 15-fold; gzipping in the worker thread keeps the
bytes the event loop sends per scrape small."""


@dataclass(frozen=True)
class Page:
    text: bytes
    gzipped: bytes
    finished: float
    """Clock reading when the rendering finished."""


class MetricsPage:
    """The registry's current page, from a single-thread executor of its own (so a
    rendering never takes a thread that DNS lookups or kopf need)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        cache_seconds: float = METRICS_CACHE_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._registry = registry
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kron-metrics")
        self._page: Page | None = None
        self._rendering: asyncio.Future[Page] | None = None
        self.renders = 0
        """Renderings started (for tests and the benchmark)."""

    async def get(self) -> Page:
        page = self._page
        if page is not None and self._clock() - page.finished < self._cache_seconds:
            return page
        if self._rendering is None:
            self.renders += 1
            rendering = asyncio.get_running_loop().run_in_executor(self._executor, self._render)
            rendering.add_done_callback(self._rendered)
            self._rendering = rendering
        # shield: a scraper that hangs up must not cancel the others' rendering.
        return await asyncio.shield(self._rendering)

    def _render(self) -> Page:  # in the worker thread
        with _short_switch_interval():
            text = generate_latest(self._registry)
        return Page(text, gzip.compress(text, GZIP_LEVEL, mtime=0), self._clock())

    def _rendered(self, rendering: asyncio.Future[Page]) -> None:
        self._rendering = None
        if not rendering.cancelled() and rendering.exception() is None:
            self._page = rendering.result()

    def close(self) -> None:
        """No new renderings; one under way finishes in its thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextlib.contextmanager
def _short_switch_interval() -> Iterator[None]:
    """RENDER_SWITCH_INTERVAL while at least one rendering runs (in any MetricsPage)."""
    global _switch_users, _switch_saved  # noqa: PLW0603 - one interpreter-wide setting
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, RENDER_SWITCH_INTERVAL))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (RFC 9110: `gzip;q=0` refuses
    it, an explicit `gzip` outranks `*`)."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(coding.strip().lower(), weight)
    return weights.get("gzip", weights.get("*", 0.0)) > 0
