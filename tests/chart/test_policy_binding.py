"""Which requests a profile's binding takes, against the real API server: the values
schema accepts exactly the validationActions a binding may have, and allNamespaces
binds tenants' namespaces but not the system ones or the release's own."""

from __future__ import annotations

import copy
import itertools
import json

from chart.helm import Helm, one
from chart.policy import create, installed_policy, make_namespaces, scheduled_task, wait_enforced
from support.cluster import ClusterHandle

ACTIONS = ("Deny", "Warn", "Audit")
KUBERNETES_ACCEPTS = {
    ("Deny",), ("Warn",), ("Audit",),
    ("Deny", "Audit"), ("Audit", "Deny"), ("Warn", "Audit"), ("Audit", "Warn"),
}  # fmt: skip


def test_values_schema_accepts_exactly_the_validation_actions_the_api_server_does(
    cluster: ClusterHandle, helm: Helm
) -> None:
    selector = {"matchLabels": {"kron.dev/policy": "shared"}}
    chart_accepts, server_accepts = set(), set()
    profiles = {"shared": {"namespaceSelector": selector}}
    rendered_base = helm.render({"policy": {"enabled": True, "profiles": profiles}}, release="va")
    base = one(rendered_base, "ValidatingAdmissionPolicyBinding")
    for size in range(1, len(ACTIONS) + 1):
        for actions in itertools.permutations(ACTIONS, size):
            profile = {"namespaceSelector": selector, "validationActions": list(actions)}
            values = {"policy": {"enabled": True, "profiles": {"shared": profile}}}
            rendered = helm.template(values, release="va", check=False)
            if rendered.returncode == 0:
                chart_accepts.add(actions)
            else:
                assert "Deny or Warn, not both" in rendered.stderr, rendered.stderr
            # The binding as the chart writes it, with these actions, to the API server.
            binding = copy.deepcopy(base)
            binding["spec"]["validationActions"] = list(actions)
            answer = cluster.kubectl(
                "create", "--dry-run=server", "-f", "-", input=json.dumps(binding), check=False
            )
            if answer.returncode == 0:
                server_accepts.add(actions)
            else:
                assert "validationActions" in answer.stderr, answer.stderr
    assert server_accepts == KUBERNETES_ACCEPTS
    assert chart_accepts == server_accepts


def test_all_namespaces_binds_tenants_not_system_or_release_namespaces(
    cluster: ClusterHandle, helm: Helm, policy_crd_installed: str
) -> None:
    make, cleanup = make_namespaces(cluster)
    two = scheduled_task(schedules=["30 9 * * *", "30 10 * * *"])
    try:
        release_namespace = make("kron")
        tenant = make("tenant")  # no label at all
        profiles = {"every": {"allNamespaces": True, "limits": {"maxSchedules": 1}}}
        with installed_policy(cluster, helm, profiles, namespace=release_namespace):
            refused = wait_enforced(cluster, tenant, two)
            assert "at most 1 are allowed here" in refused.message
            for namespace in (release_namespace, "kube-system"):
                answer = create(cluster, namespace, two)
                assert answer.admitted, (namespace, answer.message)
    finally:
        cleanup()
