"""Shards: which replicas serve which tasks, and the label that lets the API server
send each shard only its own runs.

A task belongs to a bucket, a hash of its UID in 0..SHARD_BUCKETS-1, and bucket `b`
belongs to shard `b % shard_count`. Every run carries its task's bucket in the
`kron.dev/shard` label, so a shard watches its runs with a set-based selector on
the buckets it owns: the API server filters, and adding shards divides the watch
cost. Buckets, not shard indexes, are stored because the shard count changes with a
rollout while a run's bucket never does: after a change every replica selects the
runs of its new buckets, and run names (the idempotency keys) keep any tick from
firing twice while the two layouts overlap.
"""

from __future__ import annotations

import hashlib
from typing import Final

from kron.api.constants import LABEL_SHARD, LABEL_TASK_UID

SHARD_BUCKETS: Final = 256
"""Buckets tasks hash into; the most shards an install can have."""


def bucket_of(uid: str) -> int:
    return int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) % SHARD_BUCKETS


def shard_of(uid: str, count: int) -> int:
    """The shard (0..count-1) that serves the task with this UID."""
    return bucket_of(uid) % count


def run_selector(index: int, count: int) -> str:
    """The label selector of shard `index`'s runs (all runs when there is one shard)."""
    if count <= 1:
        return LABEL_TASK_UID
    buckets = ",".join(str(b) for b in range(index, SHARD_BUCKETS, count))
    return f"{LABEL_TASK_UID},{LABEL_SHARD} in ({buckets})"
