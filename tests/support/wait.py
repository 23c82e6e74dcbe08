"""Wait for a condition instead of sleeping.

Tests against a real control plane observe things that happen "soon" (a Job completes, a
component comes back). A fixed sleep is either too short on a loaded two-core CI machine
or wastes time everywhere else; polling with a generous timeout is neither. On timeout
the error says what was awaited and what was last seen, which is most of a diagnosis.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

T = TypeVar("T")

_NOTHING = object()


def _timeout_error(
    message: str, timeout: float, last: object, error: BaseException | None
) -> AssertionError:
    seen = "nothing (the predicate never returned)" if last is _NOTHING else repr(last)
    detail = f"{message}: still not true after {timeout:g}s; last observed: {seen}"
    if error is not None:
        detail += f"; last error: {type(error).__name__}: {error}"
    return AssertionError(detail)


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that (so a
    predicate returning ``X | None`` yields an ``X``).

    Exceptions of the types in ``ignore`` count as "not yet" (say, a kubectl call while
    the API server restarts); others propagate at once.
    """
    deadline = time.monotonic() + timeout
    last: object = _NOTHING
    error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except ignore as exc:
            error = exc
        else:
            if value:
                return value
            last, error = value, None
        if time.monotonic() >= deadline:
            raise _timeout_error(message, timeout, last, error)
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], T | Awaitable[T | None] | None],
    *,
    timeout: float,  # noqa: ASYNC109 (the same signature as wait_until, on purpose)
    interval: float = 0.1,
    message: str,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """``wait_until`` for async code: ``predicate`` may be sync or return an awaitable."""
    deadline = time.monotonic() + timeout
    last: object = _NOTHING
    error: BaseException | None = None
    while True:
        try:
            result = predicate()
            value = cast("T | None", await result) if inspect.isawaitable(result) else result
        except ignore as exc:
            error = exc
        else:
            if value:
                return value
            last, error = value, None
        if time.monotonic() >= deadline:
            raise _timeout_error(message, timeout, last, error)
        await asyncio.sleep(interval)
