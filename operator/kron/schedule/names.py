"""Deterministic names of runs: the idempotency key of every tick.

Creating a run whose name exists means the tick already fired, so a name must
depend only on the task and the tick (or the manual token), and two different ticks
or tasks must not share one. Names are DNS-1123 subdomains of at most 63 characters
(the Job controller copies a Job's name into a label value); a task name too long
for its suffix is shortened and tagged with a hash of the full name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from kron.dns1123 import is_subdomain

MAX_RUN_NAME_LENGTH: Final = 63
TASK_HASH_LENGTH: Final = 8
MANUAL_TOKEN_HASH_LENGTH: Final = 10


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_task(task: str) -> None:
    if not is_subdomain(task):
        raise ValueError(f"task name {task!r} is not a DNS-1123 subdomain")


def _join(task: str, suffix: str) -> str:
    """``task + suffix``, shortening the task part (plus a hash of it) to fit 63."""
    if len(task) + len(suffix) <= MAX_RUN_NAME_LENGTH:
        return task + suffix
    tag = "-" + _sha256_hex(task)[:TASK_HASH_LENGTH]
    keep = MAX_RUN_NAME_LENGTH - len(tag) - len(suffix)
    if keep < 1:
        raise ValueError(f"run name suffix {suffix!r} is too long")
    head = task[:keep].rstrip("-.")
    return head + tag + suffix


def run_name(task: str, nominal: int, attempt: int = 0) -> str:
    """``<task>-<nominal>``, or ``<task>-<nominal>-r<attempt>`` for a retry."""
    _check_task(task)
    if nominal < 0:
        raise ValueError("nominal must not be negative")
    if attempt < 0:
        raise ValueError("attempt must not be negative")
    suffix = f"-{nominal}" if attempt == 0 else f"-{nominal}-r{attempt}"
    return _join(task, suffix)


def manual_run_name(task: str, token: str) -> str:
    """``<task>-m<10 hex of sha256(token)>``: re-applying the same token is a no-op."""
    _check_task(task)
    return _join(task, "-m" + _sha256_hex(token)[:MANUAL_TOKEN_HASH_LENGTH])


_MANUAL_SUFFIX = re.compile(f"-m([0-9a-f]{{{MANUAL_TOKEN_HASH_LENGTH}}})(?:-r([1-9][0-9]*))?$")


def manual_retry_name(task: str, name: str, attempt: int) -> str:
    """``<task>-m<hash>-r<attempt>``: retry `attempt` of the manual run `name` (itself a
    manual run or one of its retries; attempt 0 is the manual run). Distinct from every
    tick's run and retry (those carry digits where this carries ``m``) and from other
    tokens' runs (the hash)."""
    _check_task(task)
    found = _MANUAL_SUFFIX.search(name)
    if found is None or attempt < 0:
        raise ValueError(f"{name!r} is not a manual run of {task!r}, or attempt {attempt} < 0")
    return _join(task, f"-m{found.group(1)}" + (f"-r{attempt}" if attempt else ""))


def is_manual_run_name(task: str, name: str, attempt: int = 0) -> bool:
    """Whether `name` has the shape `manual_run_name(task, <some token>)` gives (for
    `attempt` > 0, the shape of that manual run's retry)."""
    found = _MANUAL_SUFFIX.search(name)
    if found is None or (int(found.group(2) or 0)) != attempt:
        return False
    try:
        return _join(task, found.group(0)) == name
    except ValueError:
        return False
