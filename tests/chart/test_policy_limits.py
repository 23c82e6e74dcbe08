"""The chart's admission policy on a real API server: each limit admits and refuses what
it says, in a namespace bound to a profile and only there; refusals name the field,
its value, the limit and the ScheduledTaskPolicy that sets it; a Warn profile admits
and warns; updates that leave a limit's fields alone pass; a missing
ScheduledTaskPolicy fails closed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chart.helm import Helm
from chart.policy import (
    POD_TEMPLATE,
    STRICT_LIMITS,
    PolicyRelease,
    create,
    create_all,
    installed_policy,
    make_namespaces,
    scheduled_task,
    wait_enforced,
)
from kron.api import ScheduledTaskSpec
from support.cluster import ClusterHandle
from support.wait import wait_until

BACKFILL = "kron.dev/backfill"
OK = {"startingDeadlineSeconds": 60}  # what every task here needs besides its schedule
EIGHT_DAYS = "2030-01-01T00:00:00Z/2030-01-09T00:00:00Z"


@dataclass(frozen=True)
class Bound:
    policy: PolicyRelease
    strict: str  # namespace bound to the Deny profile
    warn: str  # namespace bound to the Warn profile
    unbound: str

    @property
    def strict_policy(self) -> str:
        return self.policy.object_name("strict")


@pytest.fixture(scope="module")
def bound(cluster: ClusterHandle, helm: Helm, policy_crd_installed: str) -> Iterator[Bound]:
    profiles = {
        "strict": {"limits": STRICT_LIMITS},
        "warn": {"limits": STRICT_LIMITS, "validationActions": ["Warn"]},
    }
    make, cleanup = make_namespaces(cluster)
    try:
        with installed_policy(cluster, helm, profiles) as policy:
            found = Bound(
                policy,
                strict=make("strict", policy.label("strict")),
                warn=make("warn", policy.label("warn")),
                unbound=make("unbound"),
            )
            wait_enforced(cluster, found.strict, scheduled_task(schedule="* * * * * *"))
            wait_until(
                lambda: "Warning" in create(cluster, found.warn, scheduled_task()).message,
                timeout=60,
                interval=0.5,
                message="the Warn profile warns",
            )
            yield found
    finally:
        cleanup()


ADMITTED: dict[str, dict[str, Any]] = {
    "a daily schedule": {"schedule": "30 9 * * *", **OK},
    "every 5 minutes, at the limits": {"schedule": "*/5 * * * *", "jitterSeconds": 30, **OK},
    "@every at the limit": {"schedule": "@every 5m", "jitterSeconds": 30, **OK},
    "@every off the hour, no jitter": {"schedule": "@every 61m", **OK},
    "twice an hour with jitter": {"schedule": "0,30 9 * * *", "jitterSeconds": 30, **OK},
    "6-field daily with jitter": {"schedule": "0 0 9 * * *", "jitterSeconds": 30, **OK},
    "one-off off the hour": {"schedule": "@at 2030-01-01T09:30:00Z", **OK},
    "one-off on the hour with jitter": {
        "schedule": "@at 2030-01-01T09:00:00Z",
        "jitterSeconds": 30,
        **OK,
    },
    "three schedules, two exclusions": {
        "schedules": ["30 9 * * *", "30 13 * * *", "@every 2h5m"],
        "excludeSchedules": ["* * 25 12 *", "* * 1 1 *"],
        **OK,
    },
    "four calendars, one named in both lists": {
        "excludeCalendars": ["holidays", "closures", "freeze"],
        "restrictToCalendars": ["freeze", "trading-days"],
        **OK,
    },
    "the longest deadline": {"startingDeadlineSeconds": 600},
    "retries at the limits": {
        "retryPolicy": {"maxRetries": 2, "backoff": {"initialSeconds": 60}},
        **OK,
    },
    "no retries, so any backoff": {
        "retryPolicy": {"maxRetries": 0, "backoff": {"initialSeconds": 1, "maxSeconds": 1}},
        **OK,
    },
}

ADMITTED_BACKFILLS = {
    "a backfill of exactly a week": "2030-01-01T00:00:00Z/2030-01-08T00:00:00Z",
    "a week written with offsets and spaces": "2030-01-01T00:00:00+02:00 / 2030-01-07T22:00:00Z",
}


@pytest.mark.parametrize("case", list(ADMITTED))
def test_bound_namespace_admits_what_the_limits_allow(
    cluster: ClusterHandle, bound: Bound, case: str
) -> None:
    answer = create(cluster, bound.strict, scheduled_task(**ADMITTED[case]))
    assert answer.admitted, answer.message
    assert "Warning" not in answer.message


@pytest.mark.parametrize("case", list(ADMITTED_BACKFILLS))
def test_bound_namespace_admits_a_backfill_within_the_limit(
    cluster: ClusterHandle, bound: Bound, case: str
) -> None:
    task = scheduled_task(annotations={BACKFILL: ADMITTED_BACKFILLS[case]}, **OK)
    answer = create(cluster, bound.strict, task)
    assert answer.admitted, answer.message


@dataclass(frozen=True)
class Refused:
    """A task that breaks one limit, and what the refusal must say besides the limit."""

    limit: str  # the ScheduledTaskPolicy field
    spec: dict[str, Any]
    says: tuple[str, ...]
    annotations: dict[str, str] | None = None

    def task(self, name: str = "t") -> dict[str, Any]:
        return scheduled_task(name, annotations=self.annotations, **self.spec)

    @property
    def limit_value(self) -> str:
        value = STRICT_LIMITS[self.limit]
        return ", ".join(value) if isinstance(value, list) else str(value)


REFUSED: dict[str, Refused] = {
    "per-second cron": Refused(
        "minIntervalSeconds",
        {"schedule": "*/10 * * * * *", "jitterSeconds": 30, **OK},
        ('spec.schedule "*/10 * * * * *" can fire 10s apart', "the minimum here is 300s"),
    ),
    "every 4 minutes, second of two": Refused(
        "minIntervalSeconds",
        {"schedules": ["30 9 * * *", "*/4 * * * *"], "jitterSeconds": 30, **OK},
        ('spec.schedules[1] "*/4 * * * *" can fire 240s apart',),
    ),
    "@every under the minimum": Refused(
        "minIntervalSeconds",
        {"schedule": "@every 299s", **OK},
        ('spec.schedule "@every 299s" can fire 299s apart',),
    ),
    "@every the policy cannot read": Refused(
        "minIntervalSeconds",
        {"schedule": "@every 1m1m1m1m1m1m", "jitterSeconds": 30, **OK},
        ("cannot be checked against the minimum interval", "reads @every durations of at most 4"),
    ),
    "four schedules": Refused(
        "maxSchedules",
        {"schedules": ["30 9 * * *", "30 10 * * *", "30 11 * * *", "30 12 * * *"], **OK},
        ("spec.schedules has 4 expressions; at most 3 are allowed here",),
    ),
    "three exclusions": Refused(
        "maxExcludeSchedules",
        {"excludeSchedules": ["* * 1 1 *", "* * 25 12 *", "* * 26 12 *"], **OK},
        ("spec.excludeSchedules has 3 expressions; at most 2 are allowed here",),
    ),
    "five calendars": Refused(
        "maxCalendars",
        {
            "excludeCalendars": ["holidays", "closures", "freeze"],
            "restrictToCalendars": ["trading-days", "month-end"],
            **OK,
        },
        (
            "spec.excludeCalendars and spec.restrictToCalendars name 5 distinct Calendars; "
            "at most 4 are allowed here",
        ),
    ),
    "five business-day calendars": Refused(
        "maxCalendars",
        {"restrictToCalendars": ["mon", "tue", "wed", "thu", "fri"], **OK},
        ("name 5 distinct Calendars",),
    ),
    "bare Pods": Refused(
        "allowedRunKinds",
        {"podTemplate": POD_TEMPLATE, **OK},
        ("spec.podTemplate: runs of kind Pod are not allowed here; allowed run kinds: Job",),
    ),
    "a backfill of eight days": Refused(
        "maxBackfillSeconds",
        OK,
        (f'metadata.annotations[{BACKFILL}] "{EIGHT_DAYS}" spans 691200s', "at most 604800s"),
        {BACKFILL: EIGHT_DAYS},
    ),
    "a backfill on a day that does not exist": Refused(
        "maxBackfillSeconds",
        OK,
        ("is not <from>/<to> as two RFC 3339 instants",),
        {BACKFILL: "2030-02-30T00:00:00Z/2030-03-01T00:00:00Z"},
    ),
    "a backfill that is not an interval": Refused(
        "maxBackfillSeconds",
        OK,
        (f'metadata.annotations[{BACKFILL}] "last week" is not <from>/<to>',),
        {BACKFILL: "last week"},
    ),
    "hourly without jitter": Refused(
        "minOnTheHourJitterSeconds",
        {"schedule": "0 * * * *", **OK},
        (
            'spec.jitterSeconds is 0 but spec.schedule "0 * * * *" fires on the hour',
            "need jitterSeconds of at least 30",
        ),
    ),
    "@daily with too little jitter": Refused(
        "minOnTheHourJitterSeconds",
        {"schedules": ["30 9 * * *", "@daily"], "jitterSeconds": 29, **OK},
        ('spec.jitterSeconds is 29 but spec.schedules[1] "@daily" fires on the hour',),
    ),
    "no deadline": Refused(
        "maxStartingDeadlineSeconds",
        {},
        ("spec.startingDeadlineSeconds is not set (no deadline)", "one of at most 600s"),
    ),
    "a deadline above the maximum": Refused(
        "maxStartingDeadlineSeconds",
        {"startingDeadlineSeconds": 601},
        ("spec.startingDeadlineSeconds is 601; tasks here need one of at most 600s",),
    ),
    "too many retries": Refused(
        "maxRetries",
        {"retryPolicy": {"maxRetries": 3, "backoff": {"initialSeconds": 60}}, **OK},
        ("spec.retryPolicy.maxRetries is 3; at most 2 retries of a failed run are allowed",),
    ),
    "retries by default": Refused(
        "maxRetries",
        {"retryPolicy": {"backoff": {"initialSeconds": 60}}, **OK},
        ("spec.retryPolicy.maxRetries is 3;",),  # the CRD's default counts
    ),
    "retries too soon": Refused(
        "minRetryBackoffSeconds",
        {"retryPolicy": {"maxRetries": 1, "backoff": {"initialSeconds": 59}}, **OK},
        ("spec.retryPolicy.backoff.initialSeconds is 59; retries here must wait at least 60s",),
    ),
    "retries with the default backoff": Refused(
        "minRetryBackoffSeconds",
        {"retryPolicy": {"maxRetries": 1}, **OK},
        ("spec.retryPolicy.backoff.initialSeconds is 10;",),
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_limit_refuses_where_bound_warns_where_warned_admits_elsewhere(
    cluster: ClusterHandle, bound: Bound, case: str
) -> None:
    refused = REFUSED[case]
    names_the_limit = f"{refused.limit} of ScheduledTaskPolicy {bound.strict_policy})"

    answer = create(cluster, bound.strict, refused.task())
    assert not answer.admitted
    assert "is forbidden" in answer.message  # reason Forbidden (HTTP 403)
    for text in (*refused.says, names_the_limit):
        assert text in answer.message, answer.message
    if refused.limit != "allowedRunKinds":
        assert f" {refused.limit_value}" in answer.message

    warned = create(cluster, bound.warn, refused.task())
    assert warned.admitted, warned.message
    assert "Warning: Validation failed" in warned.message
    for text in refused.says:
        assert text in warned.message, warned.message

    elsewhere = create(cluster, bound.unbound, refused.task())
    assert elsewhere.admitted and "Warning" not in elsewhere.message, elsewhere.message


def test_one_refusal_lists_every_broken_limit(cluster: ClusterHandle, bound: Bound) -> None:
    task = scheduled_task(
        annotations={BACKFILL: EIGHT_DAYS},
        schedules=["*/10 * * * * *", "@hourly", "30 1 * * *", "30 2 * * *"],
        excludeSchedules=["* * 1 1 *", "* * 2 1 *", "* * 3 1 *"],
        excludeCalendars=["a", "b", "c", "d", "e"],
        podTemplate=POD_TEMPLATE,
        retryPolicy={"maxRetries": 5, "backoff": {"initialSeconds": 1}},
    )
    answer = create(cluster, bound.strict, task)
    assert not answer.admitted
    for limit in STRICT_LIMITS:
        assert f"{limit} of ScheduledTaskPolicy {bound.strict_policy}" in answer.message, limit


def _calendar_lists(rng: random.Random) -> dict[str, list[str]]:
    pool = ["holidays", "closures", "freeze", "trading-days", "month-end", "a", "b", "c", "d"]
    lists = {
        name: rng.sample(pool, rng.randint(0, 6))
        for name in ("excludeCalendars", "restrictToCalendars")
    }
    return {name: names for name, names in lists.items() if names}


def test_api_server_counts_calendars_as_kron_reads_them(
    cluster: ClusterHandle, bound: Bound
) -> None:
    """maxCalendars counts the distinct names of both lists, a name in both once: the
    Calendars kron reads and watches for the task (ScheduledTaskSpec.calendar_names)."""
    limit = STRICT_LIMITS["maxCalendars"]
    rng = random.Random(7)
    tasks = [scheduled_task(f"k{i}", **_calendar_lists(rng), **OK) for i in range(40)]
    answers = create_all(cluster, bound.strict, tasks)
    wrong = []
    for task in tasks:
        count = len(ScheduledTaskSpec.model_validate(task["spec"]).calendar_names)
        said = answers[task["metadata"]["name"]]
        quoted = f"name {count} distinct Calendars; at most {limit} are allowed here"
        agrees = said == "" if count <= limit else quoted in said
        if not agrees:
            wrong.append(f"{task['spec']}: {count} Calendars, API server: {said or 'admitted'}")
    assert not wrong, "\n".join(wrong)
    overlapping = [
        t
        for t in tasks
        if set(t["spec"].get("excludeCalendars", ()))
        & set(t["spec"].get("restrictToCalendars", ()))
    ]
    assert overlapping and any(answers.values()) and not all(answers.values())


def test_unbound_namespace_admits_everything_the_schema_does(
    cluster: ClusterHandle, bound: Bound
) -> None:
    tasks = [refused.task(f"c{i}") for i, refused in enumerate(REFUSED.values())]
    answers = create_all(cluster, bound.unbound, tasks)
    assert answers == {t["metadata"]["name"]: "" for t in tasks}


def test_updates_that_leave_a_broken_limit_alone_pass(
    cluster: ClusterHandle, bound: Bound, policy_crd_installed: str
) -> None:
    """A namespace bound after its tasks exist (or a profile tightened later): its tenants
    can still suspend, trigger and edit other fields; kron can still write status; what
    an update changes is checked."""
    make, cleanup = make_namespaces(cluster)
    try:
        namespace = make("late")
        offender = scheduled_task(
            "offender",
            schedule="*/10 * * * * *",
            podTemplate=POD_TEMPLATE,
            retryPolicy={"maxRetries": 10, "backoff": {"initialSeconds": 1}},
            excludeCalendars=["holidays", "closures", "freeze", "audit"],
            restrictToCalendars=["trading-days"],
        )  # per-second, bare Pods, no jitter on the hour, no deadline, retries in a rush,
        # five calendars
        created = create(cluster, namespace, offender, dry_run=False)
        assert created.admitted, created.message
        cluster.kubectl("label", "namespace", namespace, *_pairs(bound.policy.label("strict")))
        wait_enforced(cluster, namespace, scheduled_task("probe", schedule="* * * * * *"))

        def patch(body: dict[str, Any], *extra: str) -> Any:
            return cluster.kubectl(
                "patch", "stask", "offender", "-n", namespace, "--type=merge",
                "-p", json.dumps(body), *extra, check=False,
            )  # fmt: skip

        for allowed in (
            {"spec": {"suspend": True}},
            {"metadata": {"annotations": {"kron.dev/run-now": "one"}}},
            {"spec": {"successfulRunsHistoryLimit": 1}},
        ):
            result = patch(allowed)
            assert result.returncode == 0, (allowed, result.stderr)
        status = patch({"status": {"scheduleSummary": "written by kron"}}, "--subresource=status")
        assert status.returncode == 0, status.stderr

        faster = patch({"spec": {"schedule": "*/20 * * * * *"}})
        assert faster.returncode != 0
        assert "can fire 20s apart" in faster.stderr
        assert "fires on the hour" in faster.stderr  # the schedule changed: jitter is checked
        # ... but not the limits whose fields the patch left alone.
        assert "allowedRunKinds" not in faster.stderr
        assert "maxStartingDeadlineSeconds" not in faster.stderr
        assert "maxRetries" not in faster.stderr
        assert "minRetryBackoffSeconds" not in faster.stderr
        assert "maxCalendars" not in faster.stderr

        deadline = patch({"spec": {"startingDeadlineSeconds": 7200}})
        assert deadline.returncode != 0
        assert "spec.startingDeadlineSeconds is 7200" in deadline.stderr
        assert "minIntervalSeconds" not in deadline.stderr

        # Fewer retries is a change to retries: both retry limits read it.
        fewer = patch({"spec": {"retryPolicy": {"maxRetries": 5}}})
        assert fewer.returncode != 0
        assert "spec.retryPolicy.maxRetries is 5" in fewer.stderr
        assert "spec.retryPolicy.backoff.initialSeconds is 1;" in fewer.stderr
        assert "minIntervalSeconds" not in fewer.stderr

        # One more calendar is a change to the calendars, over the limit.
        more = patch({"spec": {"restrictToCalendars": ["trading-days", "month-end"]}})
        assert more.returncode != 0
        assert (
            "spec.excludeCalendars and spec.restrictToCalendars name 6 distinct Calendars; "
            f"at most 4 are allowed here (maxCalendars of ScheduledTaskPolicy "
            f"{bound.strict_policy})"
        ) in more.stderr
        assert "minIntervalSeconds" not in more.stderr

        # Still five calendars, untouched: only the schedule is checked.
        fixed = patch({"spec": {"schedule": "30 9 * * *"}})
        assert fixed.returncode == 0, fixed.stderr
    finally:
        cleanup()


def test_missing_scheduled_task_policy_fails_closed(
    cluster: ClusterHandle, helm: Helm, policy_crd_installed: str
) -> None:
    """Deleting a profile's ScheduledTaskPolicy refuses every task in its namespaces,
    even under a Warn profile: nothing is admitted unchecked."""
    make, cleanup = make_namespaces(cluster)
    limits = {"limits": {"maxSchedules": 2}}
    profiles = {"gone": limits, "gone-warn": {**limits, "validationActions": ["Warn"]}}
    too_many = scheduled_task(schedules=["30 9 * * *", "30 10 * * *", "30 11 * * *"])
    try:
        with installed_policy(cluster, helm, profiles) as policy:
            denying = make("gone", policy.label("gone"))
            warning = make("gone-warn", policy.label("gone-warn"))
            wait_enforced(cluster, denying, too_many)
            assert create(cluster, denying, scheduled_task()).admitted
            for profile in profiles:
                cluster.kubectl("delete", "scheduledtaskpolicy", policy.object_name(profile))
            for namespace in (denying, warning):
                refused = wait_enforced(
                    cluster, namespace, scheduled_task(), says="no params found for policy binding"
                )
                assert "parameterNotFoundAction" in refused.message
    finally:
        cleanup()


def _pairs(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in labels.items()]
