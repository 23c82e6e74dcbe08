"""The chart's RBAC, installed for real, asked with `kubectl auth can-i --as`.

The operator's ServiceAccount may do exactly what kron does (runs, status, events, its
own Lease) and nothing else; tenants get ScheduledTasks through the built-in view, edit
and admin roles, in their own namespace only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chart.helm import Helm, dump, of_kind
from support.cluster import ClusterHandle
from support.tasks import job_task
from support.wait import wait_until

RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
TASKS = "scheduledtasks.kron.dev"
CALENDARS = "calendars.kron.dev"


@dataclass(frozen=True)
class Check:
    """One `kubectl auth can-i` question and the answer the chart must give."""

    verb: str
    resource: str
    namespace: str | None  # None: --all-namespaces (or a cluster-scoped resource)
    allowed: bool
    subresource: str | None = None

    def argv(self, user: str) -> list[str]:
        args = ["auth", "can-i", self.verb, self.resource, f"--as={user}"]
        args += [f"--namespace={self.namespace}"] if self.namespace else ["--all-namespaces"]
        if self.subresource:
            args.append(f"--subresource={self.subresource}")
        return args

    def __str__(self) -> str:
        sub = f"/{self.subresource}" if self.subresource else ""
        where = self.namespace or "all namespaces"
        return (
            f"{self.verb} {self.resource}{sub} in {where}: want {'yes' if self.allowed else 'no'}"
        )


def can(cluster: ClusterHandle, user: str, check: Check) -> bool:
    result = cluster.kubectl(*check.argv(user), check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), f"{check}: kubectl said {result.stdout!r} {result.stderr!r}"
    return answer == "yes"


def wrong_answers(cluster: ClusterHandle, user: str, checks: list[Check]) -> list[str]:
    return [str(c) for c in checks if can(cluster, user, c) != c.allowed]


@pytest.fixture
def install_rbac(
    cluster: ClusterHandle, helm: Helm, crd_installed: str
) -> Iterator[Callable[..., str]]:
    """Render the chart and apply its ServiceAccount and RBAC objects for real (the rest
    is not needed to ask the authorizer). Returns the operator's user name. Cluster-scoped
    objects are deleted afterwards; namespaced ones go with their namespaces."""
    applied: list[dict[str, Any]] = []

    def install(release_ns: str, values: dict[str, Any] | None = None) -> str:
        release = f"r{secrets.token_hex(3)}"
        objects = of_kind(helm.render(values, release=release, namespace=release_ns), *RBAC_KINDS)
        cluster.kubectl("apply", "-f", "-", input=dump(objects))
        applied.extend(objects)
        return f"system:serviceaccount:{release_ns}:{release}-kron"

    yield install
    cluster_scoped = [o for o in applied if o["kind"].startswith("Cluster")]
    if cluster_scoped:
        cluster.kubectl(
            "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=dump(cluster_scoped)
        )


def wait_allowed(cluster: ClusterHandle, user: str, check: Check) -> None:
    """RBAC changes reach the authorizer through an informer: wait for the first yes."""
    wait_until(lambda: can(cluster, user, check), timeout=30, message=f"{user}: {check}")


def operator_checks(release_ns: str, served: str, other: str | None) -> list[Check]:
    """What the operator must and must not do. `served` is a namespace it serves; `other`
    one it does not (None: it serves all)."""
    yes, no = True, False
    checks = [
        Check("create", "jobs.batch", served, yes),
        Check("get", "jobs.batch", served, yes),
        Check("delete", "jobs.batch", served, yes),
        Check("watch", "jobs.batch", served, yes),
        Check("create", "pods", served, yes),
        Check("delete", "pods", served, yes),
        Check("list", TASKS, served, yes),
        Check("watch", TASKS, served, yes),
        Check("patch", TASKS, served, yes, subresource="status"),
        Check("list", CALENDARS, served, yes),
        Check("watch", CALENDARS, served, yes),
        Check("get", CALENDARS, served, yes),
        Check("update", CALENDARS, served, no),
        Check("delete", CALENDARS, served, no),
        Check("update", TASKS, served, yes, subresource="finalizers"),
        Check("create", "events", served, yes),
        Check("patch", "events", served, yes),
        # Its own Lease, in its own namespace, and nothing more of leases.
        Check("create", "leases.coordination.k8s.io", release_ns, yes),
        Check("get", "leases.coordination.k8s.io/kron-operator", release_ns, yes),
        Check("update", "leases.coordination.k8s.io/kron-operator", release_ns, yes),
        Check("update", "leases.coordination.k8s.io/someone-else", release_ns, no),
        Check("delete", "leases.coordination.k8s.io/kron-operator", release_ns, no),
        Check("create", "leases.coordination.k8s.io", served, no),
        Check("update", "leases.coordination.k8s.io/kron-operator", served, no),
        # Never Secrets, never the tasks' spec, never other workloads or RBAC.
        Check("get", "secrets", served, no),
        Check("list", "secrets", served, no),
        Check("get", "secrets", release_ns, no),
        Check("list", "secrets", None, no),
        Check("get", "configmaps", served, no),
        Check("update", TASKS, served, no),
        Check("patch", TASKS, served, no),
        Check("delete", TASKS, served, no),
        Check("update", "jobs.batch", served, no),
        Check("patch", "pods", served, no),
        Check("create", "pods", served, no, subresource="exec"),
        Check("create", "deployments.apps", served, no),
        Check("create", "rolebindings.rbac.authorization.k8s.io", served, no),
        Check("impersonate", "serviceaccounts", served, no),
        Check("list", "namespaces", None, no),
        Check("list", "nodes", None, no),
    ]
    if other is None:
        checks += [
            Check("watch", "jobs.batch", None, yes),
            Check("watch", "pods", None, yes),
            Check("list", TASKS, None, yes),
            Check("watch", CALENDARS, None, yes),
        ]
    else:
        checks += [
            Check("create", "jobs.batch", other, no),
            Check("create", "pods", other, no),
            Check("list", TASKS, other, no),
            Check("patch", TASKS, other, no, subresource="status"),
            Check("create", "events", other, no),
            Check("list", TASKS, None, no),
            Check("list", CALENDARS, other, no),
            Check("watch", "jobs.batch", None, no),
        ]
    return checks


def test_cluster_wide_operator_has_exactly_the_rights_kron_uses(
    cluster: ClusterHandle, install_rbac: Any, namespace: str, make_namespace: Any
) -> None:
    tenant = make_namespace("tenant")
    operator = install_rbac(namespace)
    wait_allowed(cluster, operator, Check("create", "jobs.batch", tenant, True))
    checks = operator_checks(release_ns=namespace, served=tenant, other=None)
    assert not wrong_answers(cluster, operator, checks)


def test_namespaced_operator_cannot_act_outside_watch_namespaces(
    cluster: ClusterHandle, install_rbac: Any, namespace: str, make_namespace: Any
) -> None:
    first, second = make_namespace("watched-a"), make_namespace("watched-b")
    outside = make_namespace("outside")
    operator = install_rbac(namespace, {"watchNamespaces": [first, second]})
    wait_allowed(cluster, operator, Check("create", "jobs.batch", first, True))
    wait_allowed(cluster, operator, Check("create", "jobs.batch", second, True))
    wrong = []
    for served in (first, second):
        checks = operator_checks(release_ns=namespace, served=served, other=outside)
        wrong += wrong_answers(cluster, operator, checks)
    assert not wrong


def test_shard_leases_are_each_allowed(
    cluster: ClusterHandle, install_rbac: Any, namespace: str
) -> None:
    operator = install_rbac(namespace, {"sharding": {"count": 2}})
    lease = "leases.coordination.k8s.io"
    wait_allowed(cluster, operator, Check("update", f"{lease}/kron-operator-0", namespace, True))
    checks = [
        Check("update", f"{lease}/kron-operator-1", namespace, True),
        Check("update", f"{lease}/kron-operator-2", namespace, False),
        Check("update", f"{lease}/kron-operator", namespace, False),
    ]
    assert not wrong_answers(cluster, operator, checks)


def bind(cluster: ClusterHandle, namespace: str, user: str, role: str) -> None:
    cluster.kubectl(
        "create", "rolebinding", f"{user}-{role}", f"--clusterrole={role}", f"--user={user}",
        "-n", namespace,
    )  # fmt: skip


def tenant_task(name: str) -> str:
    return dump([job_task(name, "@every 1h")])


def test_tenants_get_scheduled_tasks_through_view_edit_and_admin(
    cluster: ClusterHandle, install_rbac: Any, namespace: str, make_namespace: Any
) -> None:
    team_a, team_b = namespace, make_namespace("team-b")
    install_rbac(make_namespace("kron-system"))
    suffix = secrets.token_hex(3)
    alice, bob, carol = f"alice-{suffix}", f"bob-{suffix}", f"carol-{suffix}"
    bind(cluster, team_a, alice, "edit")
    bind(cluster, team_a, bob, "view")
    bind(cluster, team_a, carol, "admin")
    # The clusterrole-aggregation controller copies the rules into the built-in roles.
    for user in (alice, carol):
        wait_allowed(cluster, user, Check("create", TASKS, team_a, True))
    wait_allowed(cluster, bob, Check("list", TASKS, team_a, True))

    read = ("get", "list", "watch")
    write = ("create", "update", "patch", "delete", "deletecollection")
    expectations: dict[str, list[Check]] = {
        alice: [Check(v, TASKS, team_a, True) for v in read + write]
        + [Check(v, CALENDARS, team_a, True) for v in read + write]
        + [Check(v, TASKS, team_b, False) for v in read + write]
        + [Check(v, CALENDARS, team_b, False) for v in read + write]
        + [Check("patch", TASKS, team_a, False, subresource="status")],
        carol: [Check(v, TASKS, team_a, True) for v in read + write]
        + [Check("create", TASKS, team_b, False)]
        + [Check("update", TASKS, team_a, False, subresource="status")],
        bob: [Check(v, TASKS, team_a, True) for v in read]
        + [Check(v, CALENDARS, team_a, True) for v in read]
        + [Check(v, TASKS, team_a, False) for v in write]
        + [Check(v, CALENDARS, team_a, False) for v in write]
        + [Check(v, TASKS, team_b, False) for v in read],
    }
    wrong = {user: wrong_answers(cluster, user, checks) for user, checks in expectations.items()}
    assert not any(wrong.values()), wrong

    # And for real, through the API, not only the authorizer's word.
    created = cluster.kubectl(
        "apply", f"--as={alice}", "-n", team_a, "-f", "-", input=tenant_task("alices")
    )
    assert "created" in created.stdout
    refused = cluster.kubectl(
        "apply", f"--as={alice}", "-n", team_b, "-f", "-", input=tenant_task("alices"), check=False
    )
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()
    listed = cluster.kubectl("get", "stask", f"--as={bob}", "-n", team_a, "-o", "name")
    assert listed.stdout.strip() == "scheduledtask.kron.dev/alices"
    denied = cluster.kubectl("delete", "stask", "alices", f"--as={bob}", "-n", team_a, check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    cluster.kubectl("delete", "stask", "alices", f"--as={alice}", "-n", team_a)
