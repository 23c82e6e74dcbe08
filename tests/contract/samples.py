"""ScheduledTask objects shared by the contract tests: every valid form, and a table of
invalid ones with the field each mistake must be reported on.

The same table drives the pure model tests and the API-server tests, so the two
layers of validation are held to the same expectations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO / "crds" / "samples"

Obj = dict[str, Any]

JOB_TEMPLATE: Obj = {
    "metadata": {"labels": {"team": "data"}, "annotations": {"owner": "ops"}},
    "spec": {
        "backoffLimit": 2,
        "template": {
            "metadata": {"labels": {"app": "report"}},
            "spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "main", "image": "busybox:1.36", "args": ["true"]}],
            },
        },
    },
}
POD_TEMPLATE: Obj = {
    "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "args": ["true"]}]}
}


def task(name: str = "sample", **spec: Any) -> Obj:
    """A ScheduledTask manifest; ``spec`` defaults to a daily Job."""
    body: Obj = {"schedule": "0 3 * * *", "jobTemplate": copy.deepcopy(JOB_TEMPLATE)}
    body.update(spec)
    for key in [k for k, v in body.items() if v is None]:
        del body[key]
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {"name": name},
        "spec": body,
    }


VALID: dict[str, Obj] = {
    "five-fields": task("five-fields"),
    "six-fields-pod": task(
        "six-fields-pod",
        schedule="*/10 * * * * *",
        jobTemplate=None,
        podTemplate=copy.deepcopy(POD_TEMPLATE),
    ),
    "names-and-question": task("names", schedule="0 9 ? JAN-MAR,dec mon-FRI"),
    "macro": task("macro", schedule="@daily"),
    "every": task("every", schedule="@every 1h30m"),
    "at": task("at", schedule="@at 2030-01-01T09:00:00+01:00"),
    "everything": task(
        "everything",
        schedule=None,
        schedules=["0 9 * * MON-FRI", "30 17 * * 1-5", "@hourly"],
        timeZone="America/Argentina/Buenos_Aires",
        startTime="2030-01-01T00:00:00Z",
        endTime="2031-01-01T00:00:00Z",
        excludeSchedules=["* * 25 12 *", "* * 1 1 *"],
        jitterSeconds=30,
        suspend=True,
        concurrencyPolicy="Queue",
        startingDeadlineSeconds=120,
        catchUpPolicy="None",
        retryPolicy={
            "maxRetries": 5,
            "backoff": {"initialSeconds": 5, "maxSeconds": 300, "multiplier": 1.5},
            "stopAtNextSchedule": False,
        },
        suspendAfterFailures=3,
        successfulRunsHistoryLimit=10,
        failedRunsHistoryLimit=0,
    ),
    "half-hour-zone": task("half-hour-zone", schedule="30 2 * * *", timeZone="Asia/Kolkata"),
    "month-dependent-days": task(
        "month-dependent-days",
        schedule=None,
        schedules=["0 18 LW * *", "0 9 ? * TUE#2", "30 7 * * 5L", "0 0 L-2,15W * *"],
        excludeSchedules=["* * * * 1#1"],
    ),
    "longest-name": task("n" * 52),
}
"""Every form of the grammar and every spec field, each valid."""


def repository_samples() -> dict[str, Obj]:
    """The hand-written examples in crds/samples/ (when that directory has any)."""
    found: dict[str, Obj] = {}
    for path in sorted(SAMPLES_DIR.glob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if doc and doc.get("kind") == "ScheduledTask":
                found[f"{path.name}#{index}"] = doc
    return found


@dataclass(frozen=True)
class Bad:
    """An invalid object and where the mistake must be reported."""

    name: str
    build: Callable[[], Obj]
    field: str  # the field path both the model and the API server must name
    says: str  # a fragment of the server's message
    model_says: str | None = None  # a fragment of the model's message, when it differs


def _with(path: list[str | int], value: Any, **spec: Any) -> Callable[[], Obj]:
    def build() -> Obj:
        obj = task("bad", **spec)
        node: Any = obj
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return obj

    return build


def _spec(**spec: Any) -> Callable[[], Obj]:
    return lambda: task("bad", **spec)


_POD_ALWAYS = {"spec": {"restartPolicy": "Always", "containers": [{"name": "a", "image": "b"}]}}

BAD: list[Bad] = [
    Bad(
        "both-schedule-and-schedules",
        _spec(schedules=["0 * * * *"]),
        "spec",
        "exactly one of schedule or schedules",
    ),
    Bad("neither-schedule", _spec(schedule=None), "spec", "exactly one of schedule or schedules"),
    Bad("cron-four-fields", _spec(schedule="0 3 * *"), "spec.schedule", "5 fields", "got 4"),
    Bad(
        "cron-minute-out-of-range",
        _spec(schedule="61 * * * *"),
        "spec.schedule",
        "minute field",
        "minute",
    ),
    Bad(
        "cron-bad-month-name",
        _spec(schedule="0 0 1 JNA *"),
        "spec.schedule",
        "month field",
        "month",
    ),
    Bad("cron-zero-step", _spec(schedule="*/0 * * * *"), "spec.schedule", "minute field", "step"),
    Bad("cron-question-in-hour", _spec(schedule="0 ? * * *"), "spec.schedule", "hour field", "?"),
    Bad("cron-seconds", _spec(schedule="60 * * * * *"), "spec.schedule", "seconds field", "second"),
    Bad(
        "cron-last-day-with-step",
        _spec(schedule="0 0 L/2 * *"),
        "spec.schedule",
        "day-of-month field",
        "L (last day) cannot take a step",
    ),
    Bad(
        "cron-sixth-weekday",
        _spec(schedule="0 0 * * 2#6"),
        "spec.schedule",
        "day-of-week field",
        "occurrence 6 out of range 1-5",
    ),
    Bad("unknown-macro", _spec(schedule="@fortnightly"), "spec.schedule", "a macro", "macro"),
    Bad("every-zero", _spec(schedule="@every 0s"), "spec.schedule", "at least 1s"),
    Bad("every-ms", _spec(schedule="@every 500ms"), "spec.schedule", "units h, m, s", "unit"),
    Bad(
        "at-no-offset",
        _spec(schedule="@at 2030-01-01T09:00:00"),
        "spec.schedule",
        "RFC 3339",
        "offset",
    ),
    Bad(
        "bad-item-of-schedules",
        _spec(schedule=None, schedules=["0 * * * *", "0 0 32 * *"]),
        "spec.schedules[1]",
        "day-of-month field",
        "day-of-month",
    ),
    Bad(
        "bad-exclusion",
        _spec(excludeSchedules=["not cron"]),
        "spec.excludeSchedules[0]",
        "5 fields",
        "got 2",
    ),
    Bad(
        "too-many-schedules",
        _spec(schedule=None, schedules=[f"{m} * * * *" for m in range(17)]),
        "spec.schedules",
        "must have at most 16 items",
        "at most 16",
    ),
    Bad("empty-schedules", _spec(schedule=None, schedules=[]), "spec.schedules", "at least 1"),
    Bad(
        "job-restart-always",
        _with(["spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"], "Always"),
        "spec.jobTemplate.spec.template.spec.restartPolicy",
        'Unsupported value: "Always"',
        "Never or OnFailure",
    ),
    Bad(
        "pod-restart-always",
        _spec(jobTemplate=None, podTemplate=_POD_ALWAYS),
        "spec.podTemplate.spec.restartPolicy",
        'Unsupported value: "Always"',
        "Never or OnFailure",
    ),
    Bad(
        "pod-no-containers",
        _spec(jobTemplate=None, podTemplate={"spec": {"containers": []}}),
        "spec.podTemplate.spec.containers",
        "should have at least 1 items",
        "at least one container",
    ),
    Bad(
        "both-templates",
        _spec(podTemplate=POD_TEMPLATE),
        "spec",
        "exactly one of jobTemplate or podTemplate",
    ),
    Bad(
        "end-before-start",
        _spec(startTime="2030-01-02T00:00:00Z", endTime="2030-01-01T00:00:00Z"),
        "spec.endTime",
        "endTime must be after startTime",
    ),
    Bad(
        "name-too-long",
        _with(["metadata", "name"], "n" * 53),
        "metadata.name",
        "at most 52 characters",
    ),
    Bad(
        "negative-jitter",
        _spec(jitterSeconds=-1),
        "spec.jitterSeconds",
        "greater than or equal to 0",
    ),
    Bad(
        "unknown-concurrency-policy",
        _spec(concurrencyPolicy="Sometimes"),
        "spec.concurrencyPolicy",
        'Unsupported value: "Sometimes"',
        "Allow",
    ),
    Bad(
        "time-zone-shape",
        _spec(timeZone="Europe/Not A Zone"),
        "spec.timeZone",
        "should match",
        "pattern",
    ),
    Bad(
        "history-limit-too-big",
        _spec(successfulRunsHistoryLimit=101),
        "spec.successfulRunsHistoryLimit",
        "less than or equal to 100",
    ),
    Bad(
        "backoff-max-below-initial",
        _spec(retryPolicy={"backoff": {"initialSeconds": 60, "maxSeconds": 30}}),
        "spec.retryPolicy.backoff",
        "maxSeconds must be greater than or equal to initialSeconds",
    ),
    Bad(
        "unknown-spec-field", _spec(schedual="0 * * * *"), "spec.schedual", "unknown field", "Extra"
    ),
    Bad(
        "deadline-beyond-ten-years",
        _spec(startingDeadlineSeconds=9223372036854775807),
        "spec.startingDeadlineSeconds",
        "less than or equal to 316224000",
    ),
    Bad(
        "backoff-beyond-a-year",
        _spec(retryPolicy={"backoff": {"initialSeconds": 10**12, "maxSeconds": 10**12}}),
        "spec.retryPolicy.backoff.initialSeconds",
        "less than or equal to 31622400",
    ),
    Bad(
        "backoff-multiplier-huge",
        _spec(retryPolicy={"backoff": {"multiplier": 1e308}}),
        "spec.retryPolicy.backoff.multiplier",
        "less than or equal to 100",
    ),
    Bad(
        "pod-template-labels-not-a-map",
        _with(["spec", "jobTemplate", "spec", "template", "metadata"], {"labels": "x"}),
        "spec.jobTemplate.spec.template.metadata.labels",
        "must be of type object",
        "must be a map of strings to strings",
    ),
]

REFUSED_AT_ADMISSION: list[Bad] = [
    Bad(
        "template-with-kron-labels",
        _with(["spec", "jobTemplate", "metadata"], {"labels": {"kron.dev/task-uid": "x"}}),
        "spec.jobTemplate.metadata.labels",
        "keys starting with kron.dev/ are kron's own",
    ),
    Bad(
        "pod-template-with-kron-annotations",
        _with(
            ["spec", "jobTemplate", "spec", "template", "metadata"],
            {"annotations": {"kron.dev/scheduled-time": "2100-01-01T00:00:00Z"}},
        ),
        "spec.jobTemplate.spec.template.metadata.annotations",
        "keys starting with kron.dev/ are kron's own",
    ),
    Bad(
        "pod-mode-with-kron-annotations",
        _spec(
            jobTemplate=None,
            podTemplate={
                "metadata": {"annotations": {"kron.dev/attempt": "1"}},
                "spec": {"containers": [{"name": "a", "image": "b"}]},
            },
        ),
        "spec.podTemplate.metadata.annotations",
        "keys starting with kron.dev/ are kron's own",
    ),
]
"""What the API server refuses and the models accept: for objects admitted before the
rule existed, kron leaves those keys out of the runs and says so in an Event."""
"""Mistakes with the field that must be named, at admission and in the models."""

FULL_STATUS: Obj = {
    "observedGeneration": 4,
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Scheduled",
            "message": "next at 2030-01-01T13:00:00Z",
            "lastTransitionTime": "2030-01-01T00:00:00Z",
            "observedGeneration": 4,
        },
        {
            "type": "Overdue",
            "status": "False",
            "reason": "WithinDeadline",
            "message": "awaiting a successful run by 2030-01-01T13:30:00Z",
            "lastTransitionTime": "2030-01-01T00:00:00Z",
            "observedGeneration": 4,
        },
    ],
    "scheduleSummary": "0 * * * *",
    "nextScheduleTime": "2030-01-01T13:00:00Z",
    "upcomingScheduleTimes": ["2030-01-01T13:00:00Z", "2030-01-01T14:00:00Z"],
    "lastScheduleTime": "2030-01-01T12:00:00Z",
    "lastSuccessfulTime": "2030-01-01T11:00:30Z",
    "lastFailureTime": "2030-01-01T10:00:30Z",
    "consecutiveFailures": 0,
    "active": [
        {
            "name": "t-1893499200",
            "kind": "Job",
            "uid": "u-1",
            "scheduledTime": "2030-01-01T12:00:00Z",
            "attempt": 0,
        }
    ],
    "activeCount": 1,
    "pending": [
        {
            "scheduledTime": "2030-01-01T10:00:00Z",
            "attempt": 1,
            "notBefore": "2030-01-01T12:05:00Z",
            "trigger": "retry",
            "reason": "Retry",
        }
    ],
    "history": [
        {
            "scheduledTime": "2030-01-01T09:00:00Z",
            "trigger": "schedule",
            "result": "Missed",
            "attempt": 0,
            "message": "operator was down",
        }
    ],
    "counts": {
        "fired": 3,
        "succeeded": 1,
        "failed": 1,
        "retried": 1,
        "missed": 1,
        "skipped": 0,
        "excluded": 0,
    },
    "handledRequests": {
        "runNow": "abc",
        "backfill": "2029-12-01T00:00:00Z/2029-12-02T00:00:00Z",
        "backfillCursor": "2029-12-01T06:00:00Z",
        "resume": "r1",
    },
    "successDueSince": "2030-01-01T12:00:00Z",
    "scheduledRuns": 7,
    "scheduledRunsThrough": "2030-01-01T12:00:00Z",
    "scheduleHash": "9f2c",
    "scheduleChangedTime": "2029-12-31T00:00:00Z",
}
"""A status using every field, in the form the API server stores."""
