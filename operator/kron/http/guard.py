"""What keeps the port from costing the operator more than its answers.

Anyone who can reach the port can open connections, hold them half-sent, or send
bytes that are not HTTP. Three things bound what that costs:

- `GuardedServer` caps the open connections (the oldest idle one is closed to make
  room, so a crowd of idle connections cannot lock out the kubelet's next probe) and
  gives each a lifetime, after which it is closed once its answer is out: a client
  trickling a request forever holds nothing for long, whichever aiohttp release runs.
- `PeerLog`, the logger aiohttp's request handlers get, turns their "Error handling
  request" records, each with a traceback, into one escaped, truncated line, and lets
  at most a few such lines a minute through (`kron.logs.Throttled`, which says how
  many it held back).
- Every refusal is counted (`kron_http_rejected_total{reason}`), including those that
  are not logged.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from kron.logs import Throttled

Clock = Callable[[], float]
Count = Callable[[str], None]
"""Called with a reason (`malformed`, `error`, `connection_limit`, ...) per refusal."""

LINE_LIMIT = 300
"""Characters of a peer's bytes or of an error message kept in one log line."""


class TokenBucket:
    """`burst` at once, then one per `refill_seconds` (the scrapes)."""

    def __init__(self, burst: int, refill_seconds: float, clock: Clock = time.monotonic) -> None:
        self._burst = burst
        self._refill = refill_seconds
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._refill)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """`text` as one printable line: whitespace runs become a space, other control
    characters are escaped (a peer's bytes must not forge log lines or drive a
    terminal), and the result is truncated."""
    joined = " ".join(text.split())
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in joined[: limit * 2])
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


class PeerLog(logging.LoggerAdapter[logging.Logger]):
    """The logger aiohttp's request handlers get: what they log about a connection
    (malformed HTTP, a handler error) is counted (`malformed`, `error`), then logged
    as one WARNING line without its traceback, within the budget of `lines`."""

    def __init__(self, logger: logging.Logger, lines: Throttled, count: Count) -> None:
        super().__init__(logger, {})
        self._lines = lines
        self._count = count

    def log(  # one signature for every level aiohttp calls
        self, level: int, msg: object, *args: object, exc_info: Any = None, **_: Any
    ) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        if exc_info is True:
            exc = sys.exc_info()[1]
        malformed = isinstance(exc, HttpProcessingError)
        self._count("malformed" if malformed else "error")
        # aiohttp logs some of these at DEBUG (bytes that are not HTTP at all): all are
        # a peer's doing and get the same line.
        peer = args[0] if malformed and args else None
        what = "malformed HTTP" if malformed else one_line(_formatted(msg, args))
        source = f" from {peer}" if peer else ""
        detail = f": {type(exc).__name__}: {one_line(str(exc))}" if exc is not None else ""
        self._lines.log(logging.WARNING, "%s", f"{what}{source}{detail}")


def _formatted(msg: object, args: tuple[object, ...]) -> str:
    try:
        return str(msg) % args if args else str(msg)
    except (TypeError, ValueError):
        return f"{msg} {args}"


class GuardedServer(web.Server):
    """aiohttp's low-level server, with a cap on connections and on their lifetime.

    `busy(handler)` tells whether a connection is inside a request (the request
    handler marks it): busy connections are closed once their answer is out, idle
    ones at once."""

    def __init__(
        self,
        handler: Any,
        *,
        max_connections: int,
        connection_seconds: float,
        count: Count,
        note: Callable[[str], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._max = max_connections
        self._lifetime = connection_seconds
        self._count = count
        self._note = note
        self._open: dict[RequestHandler, asyncio.TimerHandle] = {}
        self._busy: set[RequestHandler] = set()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def mark(self, handler: RequestHandler | None, busy: bool) -> None:
        if handler is None:
            return
        if busy:
            self._busy.add(handler)
        else:
            self._busy.discard(handler)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        loop = asyncio.get_running_loop()
        self._open[handler] = loop.call_later(self._lifetime, self._expire, handler)
        if len(self._open) > self._max:
            idle = [h for h in self._open if h not in self._busy and h is not handler]
            oldest = idle[0] if idle else next(iter(self._open))
            self._count("connection_limit")
            self._note(
                f"more than {self._max} connections to the metrics port: closed the oldest"
                f"{' idle' if idle else ''} one"
            )
            self._close(oldest, now=True)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        timer = self._open.pop(handler, None)
        if timer is not None:
            timer.cancel()
        self._busy.discard(handler)
        super().connection_lost(handler, exc)

    def _expire(self, handler: RequestHandler) -> None:
        self._close(handler, now=handler not in self._busy)

    def _close(self, handler: RequestHandler, *, now: bool) -> None:
        timer = self._open.pop(handler, None)
        if timer is not None:
            timer.cancel()
        if now:
            if handler.transport is not None:
                handler.transport.abort()  # drop what a slow reader has not taken
            handler.force_close()
        else:  # answer the request being served, then close
            handler.close()
