"""Deterministic jitter: the same delay for a tick on every replica and after restarts.

The delay is derived from SHA-256 of the task's seed (its UID) and the nominal
instant, never from a random generator or Python's per-process ``hash()``. Changing
this function changes when existing tasks fire, so the recipe is part of the
contract (the README spells it out).
"""

from __future__ import annotations

import hashlib


def jitter_millis(seed: str, nominal: int, jitter_seconds: int) -> int:
    """Jitter in whole milliseconds, in ``[0, jitter_seconds * 1000)``."""
    if jitter_seconds < 0:
        raise ValueError("jitter_seconds must not be negative")
    if jitter_seconds == 0:
        return 0
    digest = hashlib.sha256(f"{seed}\x1f{nominal}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (jitter_seconds * 1000)


def jitter_offset(seed: str, nominal: int, jitter_seconds: int) -> float:
    """Seconds (millisecond resolution) in ``[0, jitter_seconds)`` to delay a tick by."""
    return jitter_millis(seed, nominal, jitter_seconds) / 1000
