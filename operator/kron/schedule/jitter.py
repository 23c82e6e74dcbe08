"""Deterministic jitter: the same delay for a tick on every replica and after restarts.

The delay is derived from SHA-256 of the task's seed (its UID) and the nominal
instant, never from a random generator or Python's per-process ``hash()``. Changing
this function changes when existing tasks fire, so the recipe is part of the
contract (the README spells it out).

The hash is reduced modulo the smaller of the jitter and the interval to the next
tick, so a jitter longer than the interval spreads fires evenly over the interval
(instead of piling them just before the next tick) and a delayed tick still fires
before the next one. When the jitter is at most the interval the delay is the hash
modulo the jitter, as it always was.
"""

from __future__ import annotations

import hashlib


def jitter_millis(seed: str, nominal: int, jitter_seconds: int, interval: int | None = None) -> int:
    """Jitter in whole milliseconds, in ``[0, min(jitter_seconds, interval) * 1000)``.

    ``interval`` is the number of seconds to the next tick (None for the last tick
    of a timeline, which gets the full jitter).
    """
    if jitter_seconds < 0:
        raise ValueError("jitter_seconds must not be negative")
    if interval is not None and interval < 1:
        raise ValueError("interval must be at least 1 second")
    if jitter_seconds == 0:
        return 0
    span = jitter_seconds if interval is None else min(jitter_seconds, interval)
    digest = hashlib.sha256(f"{seed}\x1f{nominal}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (span * 1000)


def jitter_offset(
    seed: str, nominal: int, jitter_seconds: int, interval: int | None = None
) -> float:
    """Seconds (millisecond resolution) to delay a tick by; see :func:`jitter_millis`."""
    return jitter_millis(seed, nominal, jitter_seconds, interval) / 1000
