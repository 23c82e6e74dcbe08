"""The chart's admission-policy values as rendered: off by default, profiles become a
ScheduledTaskPolicy and a binding each, the policy is the generated spec verbatim, bad
values are refused with the reason, and the rendering passes a server-side dry run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chart.helm import CHART, Helm, dump, of_kind, one
from chart.policy import POLICY_KINDS, STRICT_LIMITS
from kron.api.policy import ScheduledTaskPolicySpec, policy_spec, policy_spec_schema
from support.cluster import ClusterHandle

SHARED = {"namespaceSelector": {"matchLabels": {"kron.dev/policy": "shared"}}}
DENY_AND_WARN = "Deny or Warn, not both"
EMPTY_SELECTOR = "an empty one selects every namespace"


def values(**profiles: dict[str, Any]) -> dict[str, Any]:
    return {"policy": {"enabled": True, "profiles": profiles}}


def test_policy_is_off_by_default(helm: Helm) -> None:
    assert not of_kind(helm.render(), *POLICY_KINDS)
    # Profiles without `enabled` render nothing either.
    assert not of_kind(helm.render({"policy": {"profiles": {"shared": SHARED}}}), *POLICY_KINDS)


def test_enabled_without_profiles_renders_only_the_policy(helm: Helm) -> None:
    objects = of_kind(helm.render(values()), *POLICY_KINDS)
    assert [o["kind"] for o in objects] == ["ValidatingAdmissionPolicy"]


def test_profile_becomes_a_scheduled_task_policy_and_its_binding(helm: Helm) -> None:
    objects = helm.render(
        values(
            shared={**SHARED, "limits": STRICT_LIMITS},
            trial={**SHARED, "validationActions": ["Warn"]},
        ),
        release="prod",
    )
    policy = one(objects, "ValidatingAdmissionPolicy")
    assert policy["metadata"]["name"] == "prod-kron-scheduledtask-limits"
    assert policy["spec"] == policy_spec()  # files/ embedded verbatim

    params = one(objects, "ScheduledTaskPolicy", "prod-kron-shared")
    assert params["spec"] == STRICT_LIMITS
    assert "namespace" not in params["metadata"]  # cluster-scoped
    ScheduledTaskPolicySpec.model_validate(params["spec"])
    assert one(objects, "ScheduledTaskPolicy", "prod-kron-trial")["spec"] == {}

    binding = one(objects, "ValidatingAdmissionPolicyBinding", "prod-kron-shared")
    assert binding["spec"] == {
        "policyName": "prod-kron-scheduledtask-limits",
        "validationActions": ["Deny"],
        "paramRef": {"name": "prod-kron-shared", "parameterNotFoundAction": "Deny"},
        "matchResources": {"namespaceSelector": SHARED["namespaceSelector"]},
    }
    trial = one(objects, "ValidatingAdmissionPolicyBinding", "prod-kron-trial")
    assert trial["spec"]["validationActions"] == ["Warn"]


@pytest.mark.parametrize(
    ("profile", "says"),
    [
        ({"limits": {"maxSchedules": 2}}, "namespaceSelector"),
        ({"namespaceSelector": {}}, "/policy/profiles/shared/namespaceSelector"),
        ({**SHARED, "limits": {"minIntervalSeconds": 0}}, "minIntervalSeconds"),
        ({**SHARED, "limits": {"maxSchedules": 17}}, "maxSchedules"),
        ({**SHARED, "limits": {"maxCalendars": 17}}, "maxCalendars"),
        ({**SHARED, "limits": {"allowedRunKinds": ["CronJob"]}}, "allowedRunKinds"),
        ({**SHARED, "limits": {"minInterval": 60}}, "minInterval"),
        ({**SHARED, "validationActions": ["Block"]}, "validationActions"),
        ({**SHARED, "validationActions": ["Warn", "Deny"]}, DENY_AND_WARN),
        ({**SHARED, "validationActions": ["Deny", "Audit", "Warn"]}, DENY_AND_WARN),
        ({"namespaceSelector": {"matchLabels": {}}}, EMPTY_SELECTOR),
        ({"namespaceSelector": {"matchExpressions": []}}, EMPTY_SELECTOR),
        ({"namespaceSelector": {"matchLabels": {}, "matchExpressions": []}}, EMPTY_SELECTOR),
        ({"namespaceSelector": {}}, EMPTY_SELECTOR),
        ({**SHARED, "allNamespaces": True}, "allNamespaces: true already chooses"),
        ({"allNamespaces": False}, "namespaceSelector"),
    ],
)
def test_bad_profiles_are_refused_with_the_reason(
    helm: Helm, profile: dict[str, Any], says: str
) -> None:
    result = helm.template(values(shared=profile), check=False)
    assert result.returncode != 0, f"{profile} was accepted"
    assert says in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("profile", "says"),
    [
        ({"namespaceSelector": {"matchLabels": {}}}, "an empty namespaceSelector would apply"),
        ({"limits": {}}, "an empty namespaceSelector would apply"),
        ({**SHARED, "validationActions": ["Deny", "Warn"]}, "Deny and Warn exclude each other"),
    ],
)
def test_template_refuses_what_the_schema_does_when_it_is_skipped(
    helm: Helm, profile: dict[str, Any], says: str
) -> None:
    result = helm.template(values(shared=profile), check=False, extra=("--skip-schema-validation",))
    assert result.returncode != 0, f"{profile} was accepted"
    assert "policy.profiles.shared" in result.stderr and says in result.stderr, result.stderr


def test_all_namespaces_binds_all_but_the_system_ones_and_the_release_namespace(
    helm: Helm,
) -> None:
    objects = helm.render(values(every={"allNamespaces": True}), release="p", namespace="ops")
    binding = one(objects, "ValidatingAdmissionPolicyBinding", "p-kron-every")
    assert binding["spec"]["matchResources"]["namespaceSelector"] == {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", "kube-public", "kube-node-lease", "ops"],
            }
        ]
    }


def test_profile_names_must_fit_object_names(helm: Helm) -> None:
    result = helm.template(values(Shared_Tenants=SHARED), check=False)
    assert result.returncode != 0
    assert "Shared_Tenants" in result.stderr


def test_clusters_older_than_1_30_are_told_why(helm: Helm) -> None:
    result = helm.run(
        "template", "kron", str(CHART), "--kube-version", "1.29.4", "--set", "policy.enabled=true",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "policy.enabled needs Kubernetes 1.30 or later" in result.stderr
    assert "v1.29.4" in result.stderr


def test_limits_in_the_values_schema_are_those_of_the_crd(helm: Helm) -> None:
    """values.schema.json repeats the ScheduledTaskPolicy spec (helm cannot refer to
    the CRD): the same fields, with the same bounds."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    profile = schema["properties"]["policy"]["properties"]["profiles"]["additionalProperties"]
    in_values = profile["properties"]["limits"]["properties"]
    in_crd = policy_spec_schema()["properties"]
    assert set(in_values) == set(in_crd)
    for name, node in in_crd.items():
        for key in ("type", "minimum", "maximum", "minItems", "maxItems"):
            assert in_values[name].get(key) == node.get(key), (name, key)
        if "items" in node:
            assert in_values[name]["items"]["enum"] == node["items"]["enum"], name


def test_rendered_policy_passes_server_side_dry_run(
    cluster: ClusterHandle, helm: Helm, policy_crd_installed: str
) -> None:
    objects = of_kind(
        helm.render(values(shared={**SHARED, "limits": STRICT_LIMITS}), release="dry"),
        *POLICY_KINDS,
    )
    result = cluster.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "-f", "-", input=dump(objects)
    )
    applied = [line for line in result.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(applied) == len(objects) == 3, result.stdout + result.stderr
