"""The chart installed for real.

1. `helm install --wait` on the local cluster: there is no image registry here, but the
   simulated nodes (kwok) run any Pod without pulling its image, so the Deployment,
   PodDisruptionBudget, spread constraint and rollout are exercised by the real
   controllers and scheduler; then upgrade and uninstall.
2. kron itself, run as the chart's ServiceAccount (a token for it) with the environment
   the chart's Deployment gives it: proof that the RBAC and the settings suffice for kron
   to lead, fire runs, write status and post events.
3. The CRD upgrade docs/operations/upgrades.md documents, after Helm installed the CRD.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from chart.helm import CHART, Helm, dump, of_kind, one, resolved_env
from kron.api.crd import render_crd
from support.cluster import ClusterHandle
from support.operator import OperatorProcess, wait_leading
from support.tasks import event_reasons, runs, status
from support.wait import wait_until

REPO = CHART.parents[1]
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


def deployment_state(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "deployment", name, "-n", namespace, "-o", "json").stdout
    return dict(json.loads(out))


def release_pods(cluster: ClusterHandle, namespace: str, release: str) -> list[dict[str, Any]]:
    out = cluster.kubectl(
        "get", "pods", "-n", namespace, "-l", f"app.kubernetes.io/instance={release}", "-o", "json"
    ).stdout
    return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]


def test_helm_install_spreads_replicas_and_survives_upgrade_and_uninstall(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any, crd_installed: str
) -> None:
    if cluster.local is None:
        pytest.skip("needs the local cluster's simulated nodes: there is no kron image to pull")
    release_ns = make_namespace("kron-system", labels=RESTRICTED)
    tenant = make_namespace("tenant")
    release = f"rel{secrets.token_hex(2)}"
    values = ["--set", f"watchNamespaces={{{tenant}}}"]
    installed = helm.run(
        "install", release, str(CHART), "-n", release_ns, "--wait", "--timeout=3m", *values
    )
    try:
        assert "kubectl apply --server-side -f crds/" in installed.stdout  # NOTES.txt
        state = deployment_state(cluster, release_ns, f"{release}-kron")
        assert state["status"].get("availableReplicas") == 2
        pods = release_pods(cluster, release_ns, release)
        assert len({p["spec"]["nodeName"] for p in pods}) == 2, "replicas share a node"
        # The PodDisruptionBudget selects exactly these replicas. (Its status is not
        # checked: the local cluster runs no disruption controller.)
        pdb = json.loads(
            cluster.kubectl("get", "pdb", f"{release}-kron", "-n", release_ns, "-o", "json").stdout
        )
        assert pdb["spec"]["minAvailable"] == 1
        selector = ",".join(f"{k}={v}" for k, v in pdb["spec"]["selector"]["matchLabels"].items())
        covered = cluster.kubectl("get", "pods", "-n", release_ns, "-l", selector, "-o", "name")
        assert sorted(covered.stdout.split()) == sorted(
            f"pod/{p['metadata']['name']}" for p in pods
        )

        # A changed setting rolls out (maxUnavailable 0: a new replica first), and the
        # new replicas spread over nodes too.
        helm.run(
            "upgrade", release, str(CHART), "-n", release_ns, "--wait", "--timeout=3m",
            *values, "--set", "operator.qps=50",
        )  # fmt: skip
        state = deployment_state(cluster, release_ns, f"{release}-kron")
        (main,) = state["spec"]["template"]["spec"]["containers"]
        assert {"name": "KRON_QPS", "value": "50"} in main["env"]
        assert state["status"]["updatedReplicas"] == 2

        def spread_after_rollout() -> set[str] | None:
            nodes = [p["spec"]["nodeName"] for p in release_pods(cluster, release_ns, release)]
            return set(nodes) if len(nodes) == 2 and len(set(nodes)) == 2 else None

        wait_until(spread_after_rollout, timeout=60, message="two new replicas on two nodes")
    finally:
        helm.run("uninstall", release, "-n", release_ns, "--wait", "--timeout=2m", check=False)
    left = cluster.kubectl(
        "get", "deployment,service,serviceaccount,role,rolebinding,pdb", "-n", release_ns,
        "-l", f"app.kubernetes.io/instance={release}", "-o", "name",
    )  # fmt: skip
    assert left.stdout.strip() == ""
    roles = cluster.kubectl("get", "clusterroles", "-o", "name").stdout.split()
    assert not [
        r for r in roles if r.startswith(f"clusterrole.rbac.authorization.k8s.io/{release}-")
    ]


def service_account_kubeconfig(
    cluster: ClusterHandle, namespace: str, account: str, path: Path
) -> str:
    """A kubeconfig that authenticates as the ServiceAccount (a bound token), to the
    same server and CA as the admin's."""
    token = cluster.kubectl(
        "create", "token", account, "-n", namespace, "--duration=1h"
    ).stdout.strip()
    admin = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout)
    server = admin["clusters"][0]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [server],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": account, "context": {"cluster": server["name"], "user": account}}],
        "current-context": account,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path)


def test_kron_runs_as_the_chart_service_account_with_the_chart_settings(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any, crd_installed: str, tmp_path: Path
) -> None:
    """Namespaced mode only: a cluster-wide replica here would also fire the tasks of
    every other test running against this cluster."""
    release_ns = make_namespace("kron-system")
    tenant = make_namespace("tenant")
    release = f"rel{secrets.token_hex(2)}"
    objects = helm.render(
        {"watchNamespaces": [tenant], "operator": {"events": {"routine": True}}},
        release=release,
        namespace=release_ns,
    )
    rbac = of_kind(objects, "ServiceAccount", "Role", "RoleBinding", "ClusterRole")
    cluster.kubectl("apply", "-f", "-", input=dump(rbac))
    try:
        deployment = one(objects, "Deployment")
        env = resolved_env(deployment, pod_name=f"{release}-kron-5d9c7-abcde")
        del env["KRON_METRICS_PORT"]  # OperatorProcess picks a free port and probes it
        env["KRON_JSON_LOGS"] = "false"
        kubeconfig = service_account_kubeconfig(
            cluster, release_ns, f"{release}-kron", tmp_path / "sa.kubeconfig"
        )
        kron = OperatorProcess(
            kubeconfig=kubeconfig, namespace=tenant, log_dir=tmp_path, name="as-sa", env=env
        )
        kron.start()
        try:
            wait_leading(kron)  # get, create and update on its Lease work
            lease = cluster.kubectl(
                "get", "lease", "kron-operator", "-n", release_ns,
                "-o", "jsonpath={.spec.holderIdentity}",
            ).stdout  # fmt: skip
            assert lease == f"{release}-kron-5d9c7-abcde"
            cluster.kubectl("apply", "-n", tenant, "-f", str(REPO / "crds/samples/heartbeat.yaml"))
            wait_until(
                lambda: len(runs(cluster, tenant, "heartbeat")) >= 1,
                timeout=30,
                message="a heartbeat Job created by kron as the chart's ServiceAccount",
            )
            wait_until(
                lambda: status(cluster, tenant, "heartbeat").get("history"),
                timeout=30,
                message="status written through the status subresource",
            )
            wait_until(
                lambda: "Fired" in event_reasons(cluster, tenant, "heartbeat"),
                timeout=30,
                message="a Fired event posted",
            )
            assert kron.metric("kron_api_requests_total", code="403") == 0, kron.log()[-3000:]
        finally:
            kron.stop()
        assert "forbidden" not in kron.log().lower(), kron.log()[-3000:]
    finally:
        cluster_scoped = [o for o in rbac if o["kind"].startswith("Cluster")]
        if cluster_scoped:
            cluster.kubectl("delete", "--ignore-not-found", "-f", "-", input=dump(cluster_scoped))


def test_documented_crd_upgrade_works_after_a_helm_install(
    cluster: ClusterHandle, helm: Helm, make_namespace: Any, tmp_path: Path
) -> None:
    """docs/operations/upgrades.md: Helm installs the CRD once; the documented server-side apply
    then updates it, and needs --force-conflicts because Helm owns the fields. Run on a
    copy of kron's CRD renamed into a throwaway group, so the shared CRD is untouched."""
    suffix = secrets.token_hex(3)
    crd = yaml.safe_load(render_crd())
    group = f"upgrade{suffix}.kron.test"
    plural = f"upgradetasks{suffix}"
    crd["metadata"] = {"name": f"{plural}.{group}"}
    crd["spec"]["group"] = group
    crd["spec"]["names"] = {
        "kind": f"UpgradeTask{suffix}",
        "listKind": f"UpgradeTask{suffix}List",
        "plural": plural,
        "singular": plural.removesuffix("s"),
    }
    chart = tmp_path / "chart"
    (chart / "crds").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: crd-upgrade\nversion: 0.1.0\n")
    (chart / "crds" / "crd.yaml").write_text(yaml.safe_dump(crd))
    release_ns = make_namespace("crd-upgrade")
    try:
        helm.run("install", "crd-upgrade", str(chart), "-n", release_ns)
        newer = json.loads(json.dumps(crd))
        schema = newer["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        schema["description"] = "the next release's CRD"
        (tmp_path / "crds").mkdir()
        (tmp_path / "crds" / "crd.yaml").write_text(yaml.safe_dump(newer))
        plain = cluster.kubectl("apply", "--server-side", "-f", str(tmp_path / "crds"), check=False)
        assert plain.returncode != 0 and 'conflict with "helm"' in plain.stderr, plain.stderr
        cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(tmp_path / "crds"))
        stored = json.loads(
            cluster.kubectl("get", "crd", crd["metadata"]["name"], "-o", "json").stdout
        )
        description = stored["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"]
        assert description == "the next release's CRD"
        # helm upgrade leaves the CRD alone (it would not have upgraded it either).
        helm.run("upgrade", "crd-upgrade", str(chart), "-n", release_ns)
        stored = json.loads(
            cluster.kubectl("get", "crd", crd["metadata"]["name"], "-o", "json").stdout
        )
        assert stored["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] == (
            "the next release's CRD"
        )
    finally:
        helm.run("uninstall", "crd-upgrade", "-n", release_ns, check=False)
        cluster.kubectl(
            "delete", "crd", crd["metadata"]["name"], "--ignore-not-found", "--wait=false"
        )
