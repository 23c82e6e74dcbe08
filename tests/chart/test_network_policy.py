"""The chart's NetworkPolicy for the metrics port: off by default, and when on it selects
every replica, opens the port kron serves only to the listed sources, restricts no
egress, and is accepted by the API server.

The local control plane has no network plugin, so nothing here can show the policy
enforced; what is checked is what the API server stores and what it selects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chart.helm import CHART, Helm, container, dump, of_kind, one, resolved_env
from kron.cli.run import settings_from
from support.cluster import ClusterHandle

PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
OFFICE = {"ipBlock": {"cidr": "10.20.0.0/16", "except": ["10.20.9.0/24"]}}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) == {"matchLabels"}, selector
    return dict(selector["matchLabels"]).items() <= labels.items()


def test_there_is_no_policy_unless_asked(helm: Helm) -> None:
    assert not of_kind(helm.render(), "NetworkPolicy")
    assert not of_kind(helm.render({"networkPolicy": {"from": [PROMETHEUS]}}), "NetworkPolicy")


@pytest.mark.parametrize("shards", [1, 3])
def test_the_policy_opens_only_the_metrics_port_to_the_listed_sources(
    helm: Helm, shards: int
) -> None:
    objects = helm.render(
        {
            "networkPolicy": {"enabled": True, "from": [PROMETHEUS, OFFICE]},
            "sharding": {"count": shards},
            "metrics": {"port": 9102},
        }
    )
    policy = one(objects, "NetworkPolicy")
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == "kron-system"
    assert spec["policyTypes"] == ["Ingress"]  # kron's own calls to the API server stay open
    assert "egress" not in spec
    deployments = of_kind(objects, "Deployment")
    assert len(deployments) == shards
    for deployment in deployments:
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(spec["podSelector"], pod_labels), deployment["metadata"]["name"]
        (port,) = container(deployment)["ports"]
        # The port the rule names is the container port kron listens on.
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"port": port["name"], "protocol": "TCP"}]
        env = resolved_env(deployment, pod_name="kron-abc12-xyz34")
        settings = settings_from([], env, pod_namespace_file=Path("/nonexistent/namespace"))
        assert port["containerPort"] == settings.metrics_port == 9102
    (rule,) = spec["ingress"]
    assert rule["from"] == [PROMETHEUS, OFFICE]
    # Nothing else of the release is selected: the policy is about kron's Pods only.
    service = one(objects, "Service")
    assert service["spec"]["selector"].items() >= spec["podSelector"]["matchLabels"].items()


def test_no_source_listed_means_nothing_gets_in_but_the_node(helm: Helm) -> None:
    policy = one(helm.render({"networkPolicy": {"enabled": True}}), "NetworkPolicy")
    assert policy["spec"]["ingress"] == []
    assert policy["spec"]["policyTypes"] == ["Ingress"]


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"networkPolicy": {"enabled": "yes"}}, "/networkPolicy/enabled"),
        ({"networkPolicy": {"from": [{}]}}, "/networkPolicy/from/0"),
        ({"networkPolicy": {"from": [{"namespaceSelectr": {}}]}}, "namespaceSelectr"),
        (
            {"networkPolicy": {"from": [{"podSelector": {"matchLabels": {"a": 1}}}]}},
            "/networkPolicy/from/0/podSelector/matchLabels/a",
        ),
        (
            {
                "networkPolicy": {
                    "from": [
                        {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}}
                    ]
                }
            },
            "operator",
        ),
        ({"networkPolicy": {"from": [{"ipBlock": {}}]}}, "cidr"),
        ({"networkPolicy": {"allowFrom": []}}, "allowFrom"),
    ],
)
def test_bad_policy_values_are_refused_with_the_reason(
    helm: Helm, values: dict[str, Any], says: str
) -> None:
    result = helm.template(values, check=False)
    assert result.returncode != 0, f"{values} was accepted"
    assert says in result.stderr, result.stderr


def test_helm_lint_strict_passes_with_the_policy(helm: Helm, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("networkPolicy:\n  enabled: true\n  from:\n    - podSelector: {}\n")
    result = helm.run("lint", "--strict", str(CHART), "-f", str(path), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "peers", [[PROMETHEUS, OFFICE], [], [{"podSelector": {}}]], ids=["listed", "none", "release-ns"]
)
def test_the_policy_passes_a_server_side_dry_run(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any, peers: list[dict[str, Any]]
) -> None:
    release_ns = make_namespace("kron-netpol")
    objects = helm.render(
        {"networkPolicy": {"enabled": True, "from": peers}}, release="np", namespace=release_ns
    )
    policy = one(objects, "NetworkPolicy")
    result = cluster.kubectl(
        "apply", "--dry-run=server", "-o", "json", "-f", "-", input=dump([policy])
    )
    stored = json.loads(result.stdout)
    assert stored["kind"] == "NetworkPolicy"
    assert stored["spec"]["podSelector"] == policy["spec"]["podSelector"]
    assert stored["spec"]["policyTypes"] == ["Ingress"]
    assert stored["spec"].get("ingress", []) == policy["spec"]["ingress"]


def test_the_api_server_refuses_a_peer_mixing_ip_block_and_selectors(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any
) -> None:
    """The control for the dry run above: the same check does catch a peer the API
    server cannot accept (the schema lets it through; NetworkPolicy validation does not)."""
    release_ns = make_namespace("kron-netpol-bad")
    mixed = {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}
    objects = helm.render(
        {"networkPolicy": {"enabled": True, "from": [mixed]}}, release="np", namespace=release_ns
    )
    result = cluster.kubectl(
        "apply",
        "--dry-run=server",
        "-f",
        "-",
        input=dump([one(objects, "NetworkPolicy")]),
        check=False,
    )
    assert result.returncode != 0
    assert "ipBlock" in result.stderr


def test_the_install_notes_say_how_to_limit_scrapes_while_there_is_no_policy(
    helm: Helm, make_namespace: Any
) -> None:
    release_ns = make_namespace("kron-notes")
    args = ["install", "notes", str(CHART), "-n", release_ns, "--dry-run=client"]
    without = helm.run(*args, "--set", "metrics.perTask=true").stdout
    with_policy = helm.run(*args, "--set", "networkPolicy.enabled=true").stdout
    assert "set networkPolicy.enabled=true" in without
    assert "namespaces and tasks" in without
    assert "networkPolicy.enabled" not in with_policy.split("NOTES:", 1)[1]
