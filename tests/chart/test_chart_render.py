"""The Helm chart as rendered: lint, values schema, server-side dry runs, and what the
Deployment asks of `kron run` (env, probes, ports, security) checked against kron itself."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession

from chart.helm import CHART, REPO, Helm, container, dump, of_kind, one, parse, resolved_env
from kron.cli.knobs import knobs, run_parser
from kron.cli.run import settings_from
from kron.http import start_http
from kron.metrics import Metrics
from support.cluster import ClusterHandle

PSA_RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def dockerfile_instruction(name: str) -> list[str]:
    """Every argument of `name` instructions in the Dockerfile (continuations joined)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    return [
        line.split(None, 1)[1].strip()
        for line in text.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]


# -- lint, metadata, values.yaml ----------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"watchNamespaces": ["team-a", "team-b"], "sharding": {"count": 2}},
        {
            "metrics": {
                "serviceMonitor": {"enabled": True},
                "prometheusRule": {"enabled": True},
                "grafanaDashboard": {"enabled": True},
            }
        },
    ],
    ids=["defaults", "namespaced-sharded", "monitoring"],
)
def test_helm_lint_strict_passes(helm: Helm, values: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    result = helm.run("lint", "--strict", str(CHART), "-f", str(path), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_chart_app_version_is_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]


def _schema_keys(schema: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for name, sub in schema.get("properties", {}).items():
        if name == "global":
            continue
        path = f"{prefix}{name}"
        keys.add(path)
        keys |= _schema_keys(sub, path + ".")
    return keys


def _documented_keys(lines: list[str], wanted: set[str]) -> tuple[set[str], set[str]]:
    """(keys found in values.yaml, those among `wanted` with no comment right above)."""
    found: set[str] = set()
    undocumented: set[str] = set()
    stack: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z_][\w.-]*):", line)
        if not match:
            continue
        indent = len(match.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([name for _, name in stack] + [match.group(2)])
        stack.append((indent, match.group(2)))
        if path not in wanted:
            continue
        found.add(path)
        above = lines[index - 1].strip() if index else ""
        if not above.startswith("#"):
            undocumented.add(path)
    return found, undocumented


def test_every_value_is_commented_and_in_the_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    chart_keys = _schema_keys(schema)
    lines = (CHART / "values.yaml").read_text().splitlines()
    found, undocumented = _documented_keys(lines, chart_keys)
    assert not undocumented, f"values.yaml keys without a comment right above: {undocumented}"
    assert found == chart_keys, {
        "in the schema, not in values.yaml": sorted(chart_keys - found),
    }
    # ...and no key in values.yaml escapes the schema (top level and chart sections).
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(defaults) <= set(schema["properties"])


# -- values.schema.json and the template-time checks -----------------------------------


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"operator": {"qps": -1}}, "/operator/qps"),
        ({"operator": {"qps": 0}}, "/operator/qps"),
        ({"replicaCount": "2"}, "/replicaCount"),
        ({"replicaCount": 0}, "/replicaCount"),
        ({"operator": {"burst": 1.5}}, "/operator/burst"),
        ({"operator": {"qsp": 100}}, "qsp"),
        ({"operator": {"logs": {"level": "TRACE"}}}, "/operator/logs/level"),
        ({"watchNamespaces": ["Team_A"]}, "/watchNamespaces/0"),
        ({"watchNamespaces": ["a", "a"]}, "/watchNamespaces"),
        ({"operator": {"namespaceWeights": {"prod": 0}}}, "/operator/namespaceWeights/prod"),
        ({"operator": {"namespaceWeights": {"prod": "4"}}}, "/operator/namespaceWeights/prod"),
        ({"operator": {"namespaceWeights": {"Team_A": 2}}}, "'Team_A' does not match"),
        ({"metrics": {"port": 70000}}, "/metrics/port"),
        ({"metrics": {"serviceMonitor": {"interval": "30"}}}, "/metrics/serviceMonitor/interval"),
        ({"metrics": {"prometheusRule": {"failedRunRatio": 2}}}, "failedRunRatio"),
        ({"sharding": {"count": 0}}, "/sharding/count"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"leaderElection": {"retryPeriodSeconds": -2}}, "/leaderElection/retryPeriodSeconds"),
        ({"spreadAcrossNodes": {"whenUnsatisfiable": "Maybe"}}, "whenUnsatisfiable"),
        ({"replicas": 3}, "replicas"),
        # Rules JSON Schema cannot state, checked by the templates:
        ({"leaderElection": {"renewDeadlineSeconds": 15}}, "renewDeadlineSeconds (15)"),
        ({"leaderElection": {"retryPeriodSeconds": 10}}, "retryPeriodSeconds (10)"),
        ({"leaderElection": {"enabled": False}}, "needs replicaCount=1"),
        ({"extraEnv": [{"name": "KRON_QPS", "value": "5"}]}, "KRON_QPS is set by the chart"),
        ({"serviceAccount": {"create": False}}, "serviceAccount.name is required"),
    ],
)
def test_bad_values_are_refused_with_the_reason(
    helm: Helm, values: dict[str, Any], says: str
) -> None:
    result = helm.template(values, check=False)
    assert result.returncode != 0, f"{values} was accepted"
    assert says in result.stderr, result.stderr


def test_good_values_of_every_kind_render(helm: Helm) -> None:
    objects = helm.render(
        {
            "replicaCount": 3,
            "operator": {"qps": 0.5, "burst": 1, "logs": {"level": "DEBUG", "json": False}},
            "leaderElection": {
                "leaseDurationSeconds": 4,
                "renewDeadlineSeconds": 3,
                "retryPeriodSeconds": 0.5,
            },
            "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}],
            "image": {"digest": "sha256:" + "a" * 64},
        }
    )
    deployment = one(objects, "Deployment")
    assert container(deployment)["image"] == "localhost/kron@sha256:" + "a" * 64
    assert deployment["spec"]["replicas"] == 3


# -- rendered value sets against the API server -------------------------------------------


VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "watch-namespaces": {"watchNamespaces": ["@watch-1", "@watch-2"]},
    "monitoring": {
        "metrics": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "prometheusRule": {"enabled": True, "alertLabels": {"team": "platform"}},
            "grafanaDashboard": {"enabled": True},
        }
    },
    "per-task-metrics": {"metrics": {"perTask": True, "port": 9090}},
    "custom-image": {
        "image": {"repository": "registry.example.com/platform/kron", "tag": "0.1.0-rc1"},
        "imagePullSecrets": [{"name": "regcred"}],
        "fullnameOverride": "scheduler",
    },
    "sharded": {"sharding": {"count": 3}, "replicaCount": 3},
    "single-replica": {"replicaCount": 1, "leaderElection": {"enabled": False}},
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "from": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
        }
    },
}


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_rendered_value_set_passes_server_side_dry_run(
    name: str,
    cluster: ClusterHandle,
    helm: Helm,
    make_namespace: Any,
    monitoring_crds: None,
    crd_installed: str,
) -> None:
    release_ns = make_namespace("kron-system", labels=PSA_RESTRICTED)
    values = json.loads(json.dumps(VALUE_SETS[name]))
    if "watchNamespaces" in values:
        values["watchNamespaces"] = [
            make_namespace(n.lstrip("@")) for n in values["watchNamespaces"]
        ]
    objects = helm.render(values, release="dry", namespace=release_ns)
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=dump(objects))
    applied = [line for line in result.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(applied) == len(objects), result.stdout
    # The release namespace enforces the "restricted" Pod Security Standard: the API
    # server warns about a Deployment whose Pods it would refuse.
    assert "would violate PodSecurity" not in result.stderr, result.stderr


def test_pod_security_check_catches_a_weakened_pod(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any
) -> None:
    """The control for the dry runs above: the same check does flag a weaker Pod."""
    release_ns = make_namespace("kron-weak", labels=PSA_RESTRICTED)
    weak = {"securityContext": {"allowPrivilegeEscalation": True, "readOnlyRootFilesystem": True}}
    objects = helm.render(weak, release="weak", namespace=release_ns)
    deployment = one(objects, "Deployment")
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=dump([deployment]))
    assert "would violate PodSecurity" in result.stderr
    assert "allowPrivilegeEscalation" in result.stderr


# -- the Deployment against `kron run` ----------------------------------------------------


SETTINGS_CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "tuned": {
        "watchNamespaces": ["team-a", "team-b"],
        "sharding": {"count": 2},
        "operator": {
            "qps": 0.5,
            "burst": 7,
            "workers": 3,
            "namespaceWeights": {"team-a": 4, "team-b": 0.5},
            "watchTimeoutSeconds": 60,
            "events": {"burstPerTask": 2, "refillSeconds": 1.5, "maxPending": 0},
            "logs": {"level": "WARNING", "json": False},
        },
        "leaderElection": {
            "leaseName": "kron-prod",
            "leaseDurationSeconds": 30,
            "renewDeadlineSeconds": 20,
            "retryPeriodSeconds": 5,
        },
        "metrics": {"port": 9102, "perTask": True},
    },
}


@pytest.mark.parametrize("case", list(SETTINGS_CASES))
def test_every_env_var_the_chart_sets_is_a_kron_run_setting(case: str, helm: Helm) -> None:
    values = SETTINGS_CASES[case]
    objects = helm.render(values, namespace="ops")
    known = {knob.env for knob in knobs()}
    deployments = of_kind(objects, "Deployment")
    assert len(deployments) == values.get("sharding", {}).get("count", 1)
    for index, deployment in enumerate(sorted(deployments, key=lambda d: d["metadata"]["name"])):
        main = container(deployment)
        env = resolved_env(deployment, pod_name=f"{deployment['metadata']['name']}-abc12-xyz34")
        assert set(env) <= known, f"not kron settings: {set(env) - known}"
        # No command or args: the image's ENTRYPOINT ["kron", "run"] runs, and kron run
        # accepts an empty argument list.
        assert "command" not in main
        assert dockerfile_instruction("ENTRYPOINT") == ['["kron", "run"]']
        run_parser().parse_args(main.get("args", []))
        settings = settings_from(
            main.get("args", []), env, pod_namespace_file=Path("/nonexistent/namespace")
        )
        expect = _expected_settings(values)
        for field, value in expect.items():
            assert getattr(settings, field) == value, field
        assert settings.lease_namespace == "ops"
        assert settings.identity == f"{deployment['metadata']['name']}-abc12-xyz34"
        assert settings.shard_index == index
        assert settings.kubeconfig is None  # the in-cluster ServiceAccount
        (port,) = main["ports"]
        assert (port["name"], port["containerPort"]) == ("metrics", settings.metrics_port)


def _expected_settings(values: dict[str, Any]) -> dict[str, Any]:
    op = values.get("operator", {})
    le = values.get("leaderElection", {})
    metrics = values.get("metrics", {})
    events = op.get("events", {})
    logs = op.get("logs", {})
    return {
        "namespaces": tuple(values.get("watchNamespaces", ())),
        "shard_count": values.get("sharding", {}).get("count", 1),
        "qps": float(op.get("qps", 200)),
        "burst": op.get("burst", 400),
        "workers": op.get("workers", 32),
        "watch_timeout": op.get("watchTimeoutSeconds", 300),
        "event_burst_per_task": events.get("burstPerTask", 10),
        "event_refill_seconds": float(events.get("refillSeconds", 30)),
        "max_pending_events": events.get("maxPending", 100),
        "weights": {ns: float(w) for ns, w in op.get("namespaceWeights", {}).items()},
        "log_level": logs.get("level", "INFO"),
        "json_logs": logs.get("json", True),
        "leader_election": True,
        "lease_name": le.get("leaseName", "kron-operator"),
        "lease_duration": float(le.get("leaseDurationSeconds", 15)),
        "renew_deadline": float(le.get("renewDeadlineSeconds", 10)),
        "retry_period": float(le.get("retryPeriodSeconds", 2)),
        "metrics_port": metrics.get("port", 8080),
        "metrics_per_task": metrics.get("perTask", False),
    }


async def test_probe_paths_are_the_ones_kron_serves(helm: Helm) -> None:
    main = container(one(helm.render(), "Deployment"))
    paths = {
        kind: main[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": "/readyz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    assert {main[k]["httpGet"]["port"] for k in paths} == {"metrics"}
    server = await start_http(
        0, Metrics(), lambda: (True, ""), lambda: (True, ""), host="127.0.0.1"
    )
    try:
        async with ClientSession() as session:
            for path in {*paths.values(), "/metrics"}:
                async with session.get(f"http://127.0.0.1:{server.port}{path}") as response:
                    assert response.status == 200, path
    finally:
        await server.stop()


def test_pod_is_hardened_and_spread(helm: Helm) -> None:
    objects = helm.render()
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    main = container(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = main["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    # The image's numeric USER is the uid the Pod runs as.
    (user,) = dockerfile_instruction("USER")
    assert user == f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert main["resources"]["requests"] and main["resources"]["limits"]["memory"]
    assert pod["terminationGracePeriodSeconds"] >= 15
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"]["matchLabels"].items() <= pod_labels(deployment).items()
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    service = one(objects, "Service")
    assert service["spec"]["selector"].items() <= pod_labels(deployment).items()
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def test_single_replica_gets_no_pdb_that_would_block_drains(helm: Helm) -> None:
    objects = helm.render({"replicaCount": 1})
    assert not of_kind(objects, "PodDisruptionBudget")
    sharded = helm.render({"sharding": {"count": 2}})
    assert len(of_kind(sharded, "PodDisruptionBudget")) == 2


# -- RBAC as written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [{}, {"watchNamespaces": ["a", "b"], "sharding": {"count": 2}}], ids=["cluster", "ns"]
)
def test_every_rule_is_commented_and_least_privilege(helm: Helm, values: dict[str, Any]) -> None:
    text = helm.template(values).stdout
    roles = 0
    for document in text.split("\n---\n"):
        objects = parse(document)
        if not objects or objects[0]["kind"] not in ("Role", "ClusterRole"):
            continue
        roles += 1
        role = objects[0]
        lines = document.splitlines()
        for index, line in enumerate(lines):
            if line.strip().startswith("- apiGroups:"):
                assert lines[index - 1].strip().startswith("#"), (
                    f"{role['kind']} {role['metadata']['name']}: rule without a comment: {line}"
                )
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
            assert "secrets" not in rule["resources"], rule
            assert "nonResourceURLs" not in rule
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
    assert roles >= 4


def test_namespaced_mode_has_no_cluster_wide_operator_rights(helm: Helm) -> None:
    objects = helm.render({"watchNamespaces": ["a", "b"]})
    cluster_roles = {o["metadata"]["name"] for o in of_kind(objects, "ClusterRole")}
    assert cluster_roles == {"kron-tasks-view", "kron-tasks-edit"}  # the tenants' only
    assert not of_kind(objects, "ClusterRoleBinding")
    bindings = of_kind(objects, "RoleBinding")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["a", "b", "kron-system"]


def test_lease_rights_name_every_shard_lease(helm: Helm) -> None:
    objects = helm.render({"sharding": {"count": 3}, "leaderElection": {"leaseName": "kl"}})
    role = one(objects, "Role", "kron-leader-election")
    assert role["metadata"]["namespace"] == "kron-system"
    named = [r for r in role["rules"] if r.get("resourceNames")]
    assert named[0]["resourceNames"] == ["kl-0", "kl-1", "kl-2"]
    assert sorted(named[0]["verbs"]) == ["get", "update"]
