"""What the benchmark creates: ScheduledTasks, CronJobs and raw Jobs (pure builders).

Every run is a Job with `completions: 0`: the Job controller marks it Complete at
once without creating a Pod. The benchmark measures the scheduler's fire path, not
kwok's Pod simulation; Pods would only add the same load to both systems (and
cost the shared two cores). `BENCH_RUN=pod` gives each run one simulated Pod
instead (`sim.kron.dev/duration`), for a closer-to-life mix.

Schedules: task `i` of `n` with a period of `p` minutes gets the slot `i mod 60p`
of the period, in seconds for kron (6-field cron, so fires are continuous) and in
whole minutes for CronJob (5-field cron, its finest grain). Both fire each object
once per period, so the fire rate per minute is the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PHASE_LABEL = "bench.kron.dev/phase"
KRON_API = "kron.dev/v1alpha1"

Object = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Slot:
    """Where in its period an object fires: nominal times `t` with t % period == offset."""

    offset: int
    period: int

    def ticks(self, start: float, end: float) -> list[int]:
        """Nominal instants in [start, end)."""
        first = int(start) - (int(start) - self.offset) % self.period
        if first < start:
            first += self.period
        return list(range(first, math.ceil(end), self.period))


def kron_slot(index: int, period_minutes: int) -> Slot:
    return Slot(index % (60 * period_minutes), 60 * period_minutes)


def cron_slot(index: int, period_minutes: int) -> Slot:
    return Slot(60 * (index % period_minutes), 60 * period_minutes)


def kron_schedule(slot: Slot) -> str:
    second, minute = slot.offset % 60, slot.offset // 60
    minutes = "*" if slot.period == 60 else f"{minute}/{slot.period // 60}"
    return f"{second} {minutes} * * * *"


def cron_schedule(slot: Slot) -> str:
    minute = slot.offset // 60
    return "* * * * *" if slot.period == 60 else f"{minute}/{slot.period // 60} * * * *"


def at_instant_kron(instant: int) -> str:
    """A 6-field schedule firing daily at `instant` (UTC): the herd's second."""
    s = instant % 86400
    return f"{s % 60} {s // 60 % 60} {s // 3600} * * *"


def at_instant_cron(instant: int) -> str:
    """A 5-field schedule firing daily at `instant` (a whole UTC minute)."""
    if instant % 60:
        raise ValueError("CronJob schedules have whole minutes")
    s = instant % 86400
    return f"{s // 60 % 60} {s // 3600} * * *"


def job_spec(phase: str, run: str = "noop") -> Object:
    """The spec of every run's Job (both systems, and the raw ceiling)."""
    pod_meta: Object = {"labels": {PHASE_LABEL: phase}}
    spec: Object = {"backoffLimit": 0}
    if run == "pod":
        pod_meta["annotations"] = {"sim.kron.dev/duration": "1s"}
    else:
        spec["completions"] = 0
        spec["parallelism"] = 0
    spec["template"] = {
        "metadata": pod_meta,
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "run", "image": "registry.invalid/bench:1"}],
        },
    }
    return spec


def task(name: str, namespace: str, schedule: str, phase: str, run: str = "noop") -> Object:
    return {
        "apiVersion": KRON_API,
        "kind": "ScheduledTask",
        "metadata": {"name": name, "namespace": namespace, "labels": {PHASE_LABEL: phase}},
        "spec": {
            "schedule": schedule,
            "timeZone": "UTC",
            "concurrencyPolicy": "Allow",
            "successfulRunsHistoryLimit": 1,
            "failedRunsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {PHASE_LABEL: phase}},
                "spec": job_spec(phase, run),
            },
        },
    }


def cronjob(name: str, namespace: str, schedule: str, phase: str, run: str = "noop") -> Object:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "labels": {PHASE_LABEL: phase}},
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Allow",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {PHASE_LABEL: phase}},
                "spec": job_spec(phase, run),
            },
        },
    }


def raw_job(name: str, namespace: str, phase: str, run: str = "noop") -> Object:
    """What kron would send for one run (labels, annotations), minus the owner."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {PHASE_LABEL: phase, "kron.dev/task": name},
            "annotations": {"kron.dev/attempt": "0", "kron.dev/trigger": "schedule"},
        },
        "spec": job_spec(phase, run),
    }
