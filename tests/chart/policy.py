"""Helpers of the admission-policy tests: the chart's policy objects, installed for real
without touching anyone else's namespaces, and ScheduledTasks sent through them.

Each installation renders the chart under a release name of its own, so its
ValidatingAdmissionPolicy, ScheduledTaskPolicies and bindings have names of their own,
and points every profile's namespaceSelector at a label value of its own
(``kron.dev/test-policy=<release>-<profile>``): only namespaces a test labels so are
bound, on the local cluster or on one the user names.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml

from chart.helm import Helm, Obj, dump, of_kind
from support.cluster import ClusterHandle
from support.wait import wait_until

SELECTOR_KEY = "kron.dev/test-policy"
POLICY_KINDS = (
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ScheduledTaskPolicy",
)
TENANT_ROLES = "ClusterRole"  # the chart's aggregated ScheduledTask roles for tenants
STRICT_LIMITS: dict[str, Any] = {
    "minIntervalSeconds": 300,
    "maxSchedules": 3,
    "maxExcludeSchedules": 2,
    "maxCalendars": 4,
    "allowedRunKinds": ["Job"],
    "maxBackfillSeconds": 604_800,
    "minOnTheHourJitterSeconds": 30,
    "maxStartingDeadlineSeconds": 600,
    "maxRetries": 2,
    "minRetryBackoffSeconds": 60,
}
"""Every limit set, with values the tests can tell apart in messages."""


@dataclass
class PolicyRelease:
    """The chart's policy objects of one (rendered, applied) release."""

    release: str
    objects: list[Obj]
    cleanup: list[Obj] = field(default_factory=list)

    def label(self, profile: str) -> dict[str, str]:
        """The namespace label that binds a namespace to ``profile``."""
        return {SELECTOR_KEY: f"{self.release}-{profile}"}

    def object_name(self, profile: str) -> str:
        """Name of the profile's ScheduledTaskPolicy and binding."""
        return f"{self.release}-kron-{profile}"

    @property
    def policy_name(self) -> str:
        return f"{self.release}-kron-scheduledtask-limits"


def profile_values(profiles: dict[str, dict[str, Any]], release: str) -> dict[str, Any]:
    """Chart values for ``profiles`` (name -> limits and options), each selecting the
    namespaces labelled for it in this release (but those with allNamespaces)."""
    rendered: dict[str, Any] = {}
    for name, profile in profiles.items():
        body = copy.deepcopy(profile)
        if not body.get("allNamespaces"):
            body["namespaceSelector"] = {"matchLabels": {SELECTOR_KEY: f"{release}-{name}"}}
        rendered[name] = body
    return {"policy": {"enabled": True, "profiles": rendered}}


@contextmanager
def installed_policy(
    cluster: ClusterHandle,
    helm: Helm,
    profiles: dict[str, dict[str, Any]],
    *,
    with_tenant_roles: bool = False,
    namespace: str = "kron-system",
) -> Iterator[PolicyRelease]:
    """Render the chart with ``profiles`` (as a release in ``namespace``) and apply its
    policy objects (and, if asked, the ClusterRoles that give tenants ScheduledTasks
    through edit/admin); removed afterwards."""
    release = f"p{secrets.token_hex(3)}"
    values = profile_values(profiles, release)
    objects = helm.render(values, release=release, namespace=namespace)
    policy = of_kind(objects, *POLICY_KINDS)
    applied = policy + (of_kind(objects, TENANT_ROLES) if with_tenant_roles else [])
    cluster.kubectl("apply", "-f", "-", input=dump(applied))
    try:
        yield PolicyRelease(release, policy, applied)
    finally:
        cluster.kubectl(
            "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=dump(applied),
            check=False,
        )  # fmt: skip


def scheduled_task(
    name: str = "t", *, annotations: dict[str, str] | None = None, **spec: Any
) -> Obj:
    """A Job-mode ScheduledTask with ``spec`` fields (camelCase) on top of a valid base."""
    body: dict[str, Any] = {
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "busybox"}],
                    }
                }
            }
        },
        **spec,
    }
    if "podTemplate" in spec:
        del body["jobTemplate"]
    if "schedule" not in body and "schedules" not in body:
        body["schedule"] = "30 9 * * *"
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": metadata,
        "spec": body,
    }


POD_TEMPLATE = {
    "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
}


@dataclass(frozen=True)
class Answer:
    """What the API server said to one create."""

    admitted: bool
    message: str  # the refusal, or the warnings of an admitted create
    output: str


def create(
    cluster: ClusterHandle,
    namespace: str,
    obj: Obj,
    *,
    dry_run: bool = True,
    extra: tuple[str, ...] = (),
) -> Answer:
    """Create ``obj`` (server-side dry run unless asked) and report the answer."""
    argv = ["create", "-n", namespace, "-f", "-", *extra]
    if dry_run:
        argv.insert(1, "--dry-run=server")
    result = cluster.kubectl(*argv, input=json.dumps(obj), check=False)
    return Answer(result.returncode == 0, result.stderr.strip(), result.stdout + result.stderr)


def create_all(cluster: ClusterHandle, namespace: str, objects: list[Obj]) -> dict[str, str]:
    """Dry-run create many objects in one request each, one kubectl call: name -> the
    refusal ('' when admitted). Names must be unique."""
    listing = {"apiVersion": "v1", "kind": "List", "items": objects}
    result = cluster.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-",
        input=json.dumps(listing), check=False, timeout=180,
    )  # fmt: skip
    answers = {o["metadata"]["name"]: "" for o in objects}
    for line in result.stderr.splitlines():
        for name in answers:
            if f'scheduledtasks.kron.dev "{name}" is forbidden' in line:
                answers[name] = line
    admitted = {
        line.split("/", 1)[1].split(" ", 1)[0]
        for line in result.stdout.splitlines()
        if line.endswith("(server dry run)")
    }
    missing = [n for n, said in answers.items() if not said and n not in admitted]
    assert not missing, f"no answer for {missing}: {result.stdout} {result.stderr}"
    return answers


def wait_enforced(
    cluster: ClusterHandle, namespace: str, refused: Obj, *, says: str = ""
) -> Answer:
    """Policies, bindings, params and namespace labels reach admission through
    informers: wait until ``refused`` is refused in ``namespace``."""

    def check() -> Answer | None:
        answer = create(cluster, namespace, refused)
        return answer if not answer.admitted and says in answer.message else None

    return wait_until(check, timeout=60, interval=0.5, message=f"policy enforced in {namespace}")


def make_namespaces(cluster: ClusterHandle) -> tuple[Callable[..., str], Callable[[], None]]:
    """A namespace factory (name stem, labels) and the cleanup that deletes them all."""
    made: list[str] = []

    def make(stem: str, labels: dict[str, str] | None = None) -> str:
        name = f"t-{stem}-{secrets.token_hex(3)}"
        all_labels = {"kron.dev/test-namespace": "true", **(labels or {})}
        manifest = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": all_labels},
        }
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))
        made.append(name)
        return name

    def cleanup() -> None:
        for name in made:
            cluster.kubectl(
                "delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False
            )

    return make, cleanup
