"""Closed vocabularies of the ScheduledTask API.

``StrEnum`` members compare equal to their string values, so code may test
``policy == "Forbid"`` and serialisation writes the plain string.
"""

from enum import StrEnum


class ConcurrencyPolicy(StrEnum):
    """What to do when a tick comes while an earlier run of the task is still active."""

    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"
    QUEUE = "Queue"


class CatchUpPolicy(StrEnum):
    """Which missed ticks to run after the operator was down or the task suspended."""

    LATEST = "Latest"
    ALL = "All"
    # `None` is a keyword, so the member is spelt in capitals like the others.
    NONE = "None"


class RunResult(StrEnum):
    """How a tick ended, as recorded in the task's history."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    MISSED = "Missed"
    SKIPPED = "Skipped"
    EXCLUDED = "Excluded"


class Trigger(StrEnum):
    """Why a run was started (the value of the run's ``kron.dev/trigger`` annotation)."""

    SCHEDULE = "schedule"
    CATCH_UP = "catch-up"
    RETRY = "retry"
    MANUAL = "manual"
    BACKFILL = "backfill"


class RunKind(StrEnum):
    """The kind of object a run is."""

    JOB = "Job"
    POD = "Pod"


class ConditionStatus(StrEnum):
    """Status of a condition, as in every Kubernetes API."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class PendingReason(StrEnum):
    """Why a tick waits in ``status.pending``."""

    QUEUED = "Queued"
    RETRY = "Retry"
