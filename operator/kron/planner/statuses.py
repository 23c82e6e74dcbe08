"""Helpers on whole statuses shared by the planner's modules."""

from __future__ import annotations

from kron.api import ScheduledTaskStatus


def copy_status(status: ScheduledTaskStatus) -> ScheduledTaskStatus:
    """A deep copy; validating a dump is about five times cheaper than deepcopy."""
    return ScheduledTaskStatus.model_validate(status.model_dump())
