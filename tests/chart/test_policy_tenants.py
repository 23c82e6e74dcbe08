"""What tenants can and cannot do about the limits, on a real API server.

A tenant bound to the built-in ``edit`` (or ``admin``) role in a namespace the policy
binds cannot change the ScheduledTaskPolicy, the policy or its bindings, nor the label
of their namespace that selects the binding; the limits apply to them. The parameters
are typed: a bad limit is refused when the platform team applies it. A ResourceQuota
on ``count/scheduledtasks.kron.dev`` caps how many tasks a namespace holds. And the
shipped example profile installs with ``helm install`` and does what it says.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from chart.helm import CHART, Helm
from chart.policy import (
    SELECTOR_KEY,
    STRICT_LIMITS,
    PolicyRelease,
    create,
    installed_policy,
    make_namespaces,
    scheduled_task,
    wait_enforced,
)
from chart.test_rbac import Check, bind, wait_allowed, wrong_answers
from support.cluster import ClusterHandle
from support.wait import wait_until

EXAMPLE = CHART / "examples" / "shared-tenants-values.yaml"
POLICIES = "scheduledtaskpolicies.kron.dev"
VAP = "validatingadmissionpolicies.admissionregistration.k8s.io"
BINDINGS = "validatingadmissionpolicybindings.admissionregistration.k8s.io"
TASKS = "scheduledtasks.kron.dev"
QUOTA_RECREATE_S = 15.0
"""How long a quota may stay uncounted before the test makes it anew."""


@dataclass(frozen=True)
class Tenancy:
    policy: PolicyRelease
    namespace: str
    alice: str  # edit in namespace
    carol: str  # admin in namespace


@pytest.fixture(scope="module")
def tenancy(cluster: ClusterHandle, helm: Helm, policy_crd_installed: str) -> Iterator[Tenancy]:
    make, cleanup = make_namespaces(cluster)
    try:
        profiles = {"shared": {"limits": STRICT_LIMITS}}
        with installed_policy(cluster, helm, profiles, with_tenant_roles=True) as policy:
            namespace = make("tenant", policy.label("shared"))
            suffix = secrets.token_hex(3)
            alice, carol = f"alice-{suffix}", f"carol-{suffix}"
            bind(cluster, namespace, alice, "edit")
            bind(cluster, namespace, carol, "admin")
            for user in (alice, carol):
                wait_allowed(cluster, user, Check("create", TASKS, namespace, True))
            wait_enforced(cluster, namespace, scheduled_task(schedule="* * * * * *"))
            yield Tenancy(policy, namespace, alice, carol)
    finally:
        cleanup()


def test_tenants_cannot_reach_the_limits_or_the_bindings(
    cluster: ClusterHandle, tenancy: Tenancy
) -> None:
    ns = tenancy.namespace
    write = ("create", "update", "patch", "delete", "deletecollection")
    checks = [
        *(Check(verb, POLICIES, None, False) for verb in write),
        *(Check(verb, VAP, None, False) for verb in write),
        *(Check(verb, BINDINGS, None, False) for verb in write),
        # The label that binds the namespace is on the Namespace object.
        Check("update", f"namespaces/{ns}", None, False),
        Check("patch", f"namespaces/{ns}", None, False),
        # What they may do: their tasks.
        Check("create", TASKS, ns, True),
        Check("update", TASKS, ns, True),
    ]
    wrong = {user: wrong_answers(cluster, user, checks) for user in (tenancy.alice, tenancy.carol)}
    assert not any(wrong.values()), wrong


def test_tenants_attempts_are_refused_and_the_limits_hold(
    cluster: ClusterHandle, tenancy: Tenancy
) -> None:
    ns, policy = tenancy.namespace, tenancy.policy
    profile = policy.object_name("shared")
    (key,) = policy.label("shared")
    for user in (tenancy.alice, tenancy.carol):
        attempts = {
            "loosen the limits": (
                "patch", "scheduledtaskpolicy", profile, "--type=merge",
                "-p", json.dumps({"spec": {"minIntervalSeconds": 1}}),
            ),
            "delete the limits": ("delete", "scheduledtaskpolicy", profile),
            "unbind the namespace": ("delete", "validatingadmissionpolicybinding", profile),
            "point the binding elsewhere": (
                "patch", "validatingadmissionpolicybinding", profile, "--type=merge",
                "-p", json.dumps({"spec": {"paramRef": {"name": "nothing"}}}),
            ),
            "change the policy": (
                "patch", "validatingadmissionpolicy", policy.policy_name, "--type=merge",
                "-p", json.dumps({"spec": {"failurePolicy": "Ignore"}}),
            ),
            "make a binding of their own": (
                "create", "-f", "-",
            ),
            "remove the namespace label": ("label", "namespace", ns, f"{key}-"),
        }  # fmt: skip
        own_binding = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": f"{profile}-mine"},
            "spec": {
                "policyName": policy.policy_name,
                "validationActions": ["Warn"],
                "paramRef": {"name": profile, "parameterNotFoundAction": "Allow"},
            },
        }
        for what, argv in attempts.items():
            stdin = yaml.safe_dump(own_binding) if argv[0] == "create" else None
            result = cluster.kubectl(*argv, f"--as={user}", input=stdin, check=False)
            assert result.returncode != 0, f"{user} could {what}"
            assert "forbidden" in result.stderr.lower(), (what, result.stderr)

    # Nothing changed, and the limits apply to the tenants' own requests.
    labels = json.loads(cluster.kubectl("get", "namespace", ns, "-o", "json").stdout)
    assert labels["metadata"]["labels"][key] == policy.label("shared")[key]
    stored = json.loads(cluster.kubectl("get", "scheduledtaskpolicy", profile, "-o", "json").stdout)
    assert stored["spec"] == STRICT_LIMITS
    refused = create(
        cluster,
        ns,
        scheduled_task("fast", schedule="*/10 * * * * *"),
        extra=(f"--as={tenancy.alice}",),
    )
    assert not refused.admitted and "minIntervalSeconds" in refused.message
    allowed = create(
        cluster,
        ns,
        scheduled_task("nightly", startingDeadlineSeconds=60),
        dry_run=False,
        extra=(f"--as={tenancy.alice}",),
    )
    assert allowed.admitted, allowed.message


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"minIntervalSeconds": 0}, "spec.minIntervalSeconds"),
        ({"minIntervalSeconds": 86_401}, "spec.minIntervalSeconds"),
        ({"minIntervalSeconds": "60"}, "spec.minIntervalSeconds"),
        ({"maxSchedules": 17}, "spec.maxSchedules"),
        ({"maxCalendars": 17}, "spec.maxCalendars"),
        ({"maxCalendars": -1}, "spec.maxCalendars"),
        ({"allowedRunKinds": ["CronJob"]}, "spec.allowedRunKinds[0]"),
        ({"allowedRunKinds": []}, "spec.allowedRunKinds"),
        ({"allowedRunKinds": ["Job", "Job"]}, "spec.allowedRunKinds[1]"),
        ({"maxBackfillSeconds": -1}, "spec.maxBackfillSeconds"),
        ({"minOnTheHourJitterSeconds": 0}, "spec.minOnTheHourJitterSeconds"),
        ({"maxStartingDeadline": 60}, 'unknown field "spec.maxStartingDeadline"'),
        ({"maxRetries": 101}, "spec.maxRetries"),
        ({"minRetryBackoffSeconds": 0}, "spec.minRetryBackoffSeconds"),
    ],
)
def test_policy_parameters_are_typed_and_checked(
    cluster: ClusterHandle, policy_crd_installed: str, spec: dict[str, Any], says: str
) -> None:
    policy = {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTaskPolicy",
        "metadata": {"name": f"bad-{secrets.token_hex(3)}"},
        "spec": spec,
    }
    result = cluster.kubectl(
        "create", "--dry-run=server", "--validate=strict", "-f", "-",
        input=json.dumps(policy), check=False,
    )  # fmt: skip
    assert result.returncode != 0, f"{spec} was accepted"
    assert says in result.stderr, result.stderr


def test_resource_quota_caps_the_number_of_tasks(
    cluster: ClusterHandle, crd_installed: str
) -> None:
    make, cleanup = make_namespaces(cluster)
    try:
        namespace = make("quota")
        quota = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "tasks"},
            "spec": {"hard": {"count/scheduledtasks.kron.dev": "2"}},
        }
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(quota))
        made = [time.monotonic()]

        def quota_used() -> dict[str, str] | None:
            out = cluster.kubectl("get", "resourcequota", "tasks", "-n", namespace, "-o", "json")
            used = json.loads(out.stdout).get("status", {}).get("used")
            return dict(used) if used is not None else None

        def counted() -> dict[str, str] | None:
            used = quota_used()
            if used is None and time.monotonic() - made[0] > QUOTA_RECREATE_S:
                # A quota controller that had not discovered the CRD yet when the quota
                # was made (its discovery runs every 30 s) ignores the quota until its
                # next full resync, minutes later; a quota made anew is synced at once.
                cluster.kubectl("delete", "resourcequota", "tasks", "-n", namespace)
                cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(quota))
                made[0] = time.monotonic()
            return used

        # The quota controller must have counted the namespace before admission lets
        # anything through.
        wait_until(counted, timeout=120, interval=1, message="ResourceQuota status.used filled in")
        for name in ("first", "second"):
            created = create(cluster, namespace, scheduled_task(name), dry_run=False)
            assert created.admitted, created.message
        third = create(cluster, namespace, scheduled_task("third"), dry_run=False)
        assert not third.admitted
        assert "exceeded quota: tasks" in third.message
        assert "count/scheduledtasks.kron.dev=2" in third.message
        assert quota_used() == {"count/scheduledtasks.kron.dev": "2"}

        cluster.kubectl("delete", "stask", "first", "-n", namespace)
        wait_until(
            lambda: create(cluster, namespace, scheduled_task("third"), dry_run=False).admitted,
            timeout=60,
            interval=0.5,
            message="a task created once one is deleted",
        )
    finally:
        cleanup()


def test_example_profile_installs_with_helm_and_applies(
    cluster: ClusterHandle, helm: Helm, policy_crd_installed: str, tmp_path: Path
) -> None:
    """The shipped examples/shared-tenants-values.yaml, as a platform team would install
    it (only its namespace label made unique, so no other namespace is bound)."""
    make, cleanup = make_namespaces(cluster)
    release = f"ex{secrets.token_hex(2)}"
    label = {SELECTOR_KEY: release}
    values = yaml.safe_load(EXAMPLE.read_text())
    values["policy"]["profiles"]["shared-tenants"]["namespaceSelector"] = {"matchLabels": label}
    edited = tmp_path / "shared-tenants-values.yaml"
    edited.write_text(yaml.safe_dump(values))
    release_ns = make("kron-system")
    try:
        installed = helm.run(
            "install", release, str(CHART), "-n", release_ns, "--skip-crds",
            "-f", str(edited), "--set", "replicaCount=1",
        )  # fmt: skip
        assert f"Admission policy {release}-kron-scheduledtask-limits: profiles shared-tenants" in (
            installed.stdout
        )  # NOTES.txt
        tenant = make("tenant", label)
        refused = wait_enforced(cluster, tenant, scheduled_task(schedule="*/10 * * * * *"))
        assert f"minIntervalSeconds of ScheduledTaskPolicy {release}-kron-shared-tenants" in (
            refused.message
        )
        nightly = scheduled_task(jitterSeconds=30, startingDeadlineSeconds=300)
        assert create(cluster, tenant, nightly).admitted
        bare_pods = scheduled_task(
            podTemplate={"spec": {"containers": [{"name": "m", "image": "b"}]}},
            startingDeadlineSeconds=300,
        )
        assert "allowed run kinds: Job" in create(cluster, tenant, bare_pods).message
        listed = cluster.kubectl("get", "stpolicy", f"{release}-kron-shared-tenants")
        assert "60" in listed.stdout  # the printer columns show the limits
    finally:
        helm.run("uninstall", release, "-n", release_ns, "--wait", check=False)
        cleanup()
    left = cluster.kubectl(
        "get", "validatingadmissionpolicy,validatingadmissionpolicybinding,scheduledtaskpolicy",
        "-l", f"app.kubernetes.io/instance={release}", "-o", "name",
    )  # fmt: skip
    assert left.stdout.strip() == ""


def test_example_profile_passes_helm_lint(helm: Helm) -> None:
    result = helm.run("lint", "--strict", str(CHART), "-f", str(EXAMPLE), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
