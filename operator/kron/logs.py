"""Logging setup: human-readable lines, or one JSON object per line (`--json-logs`)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, *, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class Throttled:
    """At most `burst` lines per `per` seconds for one kind of message, then a summary.

    What tenants write ends up in some log lines (a task that cannot be planned, a
    Pod kron ignores); a tenant who makes thousands of those must not fill the
    operator's log or slow it down with formatting. Suppressed lines are counted and
    reported with the next line that gets through.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 20,
        per: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._per = per
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._suppressed = 0

    def log(self, level: int, message: str, *args: object) -> None:
        if not self._logger.isEnabledFor(level):
            return
        now = self._clock()
        self._tokens = min(
            self._burst, self._tokens + (now - self._stamp) * self._burst / self._per
        )
        self._stamp = now
        if self._tokens < 1.0:
            self._suppressed += 1
            return
        self._tokens -= 1.0
        if self._suppressed:
            message += " (%d similar lines suppressed)"
            args = (*args, self._suppressed)
            self._suppressed = 0
        self._logger.log(level, message, *args)
