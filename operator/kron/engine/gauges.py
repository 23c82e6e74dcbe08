"""Gauges refreshed from the index every few seconds: tasks by state, active runs,
queue depths, and overdue tasks.

Overdue tasks are counted per namespace (`kron_tasks_overdue`, bounded by the
namespaces served). With per-task metrics (`--metrics-per-task`) each overdue task
also gets `kron_task_overdue{namespace,task}` = 1 and
`kron_task_last_success_timestamp_seconds` (0 if it never succeeded); only overdue
tasks have these series, so they cost nothing while everything is on time.
"""

from __future__ import annotations

from collections.abc import Iterable

from kron.engine.index import TaskEntry
from kron.engine.pool import WorkPool
from kron.engine.timers import Timers
from kron.metrics import Metrics
from kron.planner import RunPhase


def refresh(
    metrics: Metrics, entries: Iterable[TaskEntry], timers: Timers, pool: WorkPool, now: float
) -> None:
    states: dict[str, int] = {}
    overdue: dict[str, int] = {}
    active = 0
    if metrics.per_task:
        metrics.task_overdue.clear()
        metrics.task_last_success.clear()
    for entry in entries:
        state = entry.ready_reason
        states[state] = states.get(state, 0) + 1
        active += sum(1 for r in entry.runs.values() if r.phase is RunPhase.ACTIVE)
        if entry.overdue is not None:
            ns = entry.ref.namespace
            overdue[ns] = overdue.get(ns, 0) + 1
            if metrics.per_task:
                metrics.task_overdue.labels(ns, entry.ref.name).set(1)
                metrics.task_last_success.labels(ns, entry.ref.name).set(entry.overdue)
    metrics.tasks.clear()
    for state, n in states.items():
        metrics.tasks.labels(state).set(n)
    metrics.tasks_overdue.clear()
    for ns, n in overdue.items():
        metrics.tasks_overdue.labels(ns).set(n)
    metrics.active_runs.set(active)
    metrics.queue_depth.labels("due").set(timers.count_due(now))
    pool.refresh_gauges()
