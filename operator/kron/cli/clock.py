"""The CLI's one clock read, behind a name tests can replace."""

from __future__ import annotations

import time


def now() -> float:
    """Unix seconds now."""
    return time.time()
