"""The fault boundary around each task, as controller-runtime keeps one per key.

Whatever goes wrong inside kron while it indexes, plans, builds a run for or records
one task stays with that task: the exception is caught at the task's boundary,
counted in `kron_task_errors_total{stage}`, logged on one (throttled) line, and
reported on the task itself (`Ready=False`, `Stalled=False`, reason
`InternalError`, an Event). The task is retried with capped exponential backoff;
every other task keeps firing on time, and the process never exits because of
what a tenant wrote.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

from kron.logs import Throttled
from kron.metrics import Metrics

log = logging.getLogger(__name__)

RETRY_BASE = 1.0
"""Seconds before the first retry of a task whose plan failed."""
RETRY_CAP = 300.0
"""Longest wait between retries (doubling from RETRY_BASE)."""
MESSAGE_LIMIT = 300
"""Characters of an exception kept in the task's condition and Event."""


class Stage(StrEnum):
    """Where in kron a task's fault happened (the `stage` label)."""

    INDEX = "index"
    """Reading the task as listed or watched (its spec, metadata)."""
    OBSERVE = "observe"
    """Reading a Job or Pod as one of its runs."""
    PLAN = "plan"
    """Deciding what to do for the task."""
    BUILD = "build"
    """Building a run's manifest from the template."""
    RECORD = "record"
    """Writing the task's status."""


_SPACE = re.compile(r"\s+")


def one_line(err: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """`Type: message` on one line, at most `limit` characters."""
    return shorten(f"{type(err).__name__}: {err}", limit)


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis ends a cut)."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def retry_delay(streak: int) -> float:
    """Seconds before retry number `streak` (1 for the first)."""
    return min(RETRY_CAP, RETRY_BASE * 2.0 ** max(0, min(streak - 1, 30)))


class Faults:
    """Counts and logs faults; the engine reports them on the task."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._log = {stage: Throttled(log) for stage in Stage}

    def report(self, stage: Stage, where: str, err: BaseException) -> str:
        """Count and log `err`; returns the one-line message for the task."""
        message = one_line(err)
        self._metrics.task_errors.labels(str(stage)).inc()
        self._log[stage].log(logging.WARNING, "%s failed for %s: %s", stage, where, message)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s failed for %s", stage, where, exc_info=err)
        return f"{stage}: {message}"
