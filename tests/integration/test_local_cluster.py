"""The cluster kron is tested on behaves like Kubernetes where kron depends on it.

These tests pin what the rest of the suite takes for granted: simulated Pods really run
and finish (``sim.kron.dev/*`` annotations), the real Job, garbage-collector and
Deployment controllers act on them, CEL validation and RBAC are enforced by a real API
server, and the local harness can kill and restart the API server and etcd without
losing data or breaking watches for good. They run against whichever cluster the
session uses; the kill/restart tests need the local harness and skip elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.aio import client as aio_client
from kubernetes.aio import config as aio_config

from localcluster import APISERVER, COMPONENTS, ETCD, LocalCluster, components
from support.cluster import ClusterHandle, KubectlError
from support.wait import async_wait_until, wait_until
from support.watch import WatchStats, resuming_watch
from support.workloads import (
    DURATION,
    EXIT_CODE,
    IMAGE,
    RESULT,
    Kubectl,
    apply,
    bare_pod,
    get,
    job,
    pods_of_job,
    terminated_state,
    wait_job_outcome,
    wait_pod_terminal,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(240)]


def timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- simulated Pods and the real controllers ------------------------------------------


def test_job_runs_to_completion_for_its_annotated_duration(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, job("ok", {DURATION: "2s"}))

    assert wait_job_outcome(kubectl, namespace, "ok") == "Complete"
    assert get(kubectl, namespace, "job", "ok")["status"]["succeeded"] == 1
    (pod,) = pods_of_job(kubectl, namespace, "ok")
    assert pod["status"]["phase"] == "Succeeded"
    state = terminated_state(pod)
    assert state["exitCode"] == 0
    # The container ran from going Running until the duration was up (timestamps are
    # whole seconds, hence one second of slack).
    ran_for = timestamp(state["finishedAt"]) - timestamp(state["startedAt"])
    assert ran_for.total_seconds() >= 1


def test_job_whose_pod_is_told_to_fail_ends_failed_with_the_requested_exit_code(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, job("bad", {DURATION: "200ms", RESULT: "Failed", EXIT_CODE: "42"}))

    assert wait_job_outcome(kubectl, namespace, "bad") == "Failed"
    (pod,) = pods_of_job(kubectl, namespace, "bad")
    assert pod["status"]["phase"] == "Failed"
    assert terminated_state(pod)["exitCode"] == 42


def test_bare_pod_with_restart_policy_never_finishes_succeeded(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, bare_pod("once", {}))  # no annotations: the 1s default

    pod = wait_pod_terminal(kubectl, namespace, "once")

    assert pod["status"]["phase"] == "Succeeded"
    assert terminated_state(pod)["exitCode"] == 0


def test_deployment_pod_stays_running_while_run_to_completion_pods_finish(
    kubectl: Kubectl, namespace: str
) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {DURATION: "100ms"}},
                "spec": {"containers": [{"name": "main", "image": IMAGE}]},
            },
        },
    }
    apply(kubectl, namespace, deployment)

    def running_pod() -> dict[str, Any] | None:
        listing = kubectl("get", "pods", "-n", namespace, "-l", "app=web", "-o", "json")
        pods = json.loads(listing.stdout)["items"]
        running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
        return running[0] if running else None

    web = wait_until(running_pod, timeout=90, message="the Deployment's Pod to run")
    # A Pod with the same duration, started later, finishing proves kwok has acted on
    # durations at least that long; the Deployment's Pod must not have been finished.
    apply(kubectl, namespace, bare_pod("marker", {DURATION: "100ms"}))
    assert wait_pod_terminal(kubectl, namespace, "marker")["status"]["phase"] == "Succeeded"

    now = get(kubectl, namespace, "pod", web["metadata"]["name"])
    assert now["status"]["phase"] == "Running"
    assert now["status"]["containerStatuses"][0]["restartCount"] == 0


def test_deleting_a_running_job_pod_removes_it_and_the_job_counts_a_failure(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, job("long", {DURATION: "1h"}))

    def running() -> str | None:
        pods = pods_of_job(kubectl, namespace, "long")
        ok = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
        return str(ok[0]["metadata"]["name"]) if ok else None

    name = wait_until(running, timeout=90, message="the Job's Pod to run")
    # --wait: returns once the object is gone, so the Job controller's tracking
    # finalizer was released after the simulated kubelet reported the Pod terminal.
    kubectl("delete", "pod", name, "-n", namespace, "--wait=true", "--timeout=90s", timeout=120)

    gone = kubectl("get", "pod", name, "-n", namespace, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    assert wait_job_outcome(kubectl, namespace, "long") == "Failed"  # backoffLimit 0


def test_deleting_a_job_deletes_its_pods_through_the_garbage_collector(
    kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, namespace, job("owner", {DURATION: "1h"}))
    wait_until(
        lambda: pods_of_job(kubectl, namespace, "owner"),
        timeout=90,
        message="the Job's Pod to exist",
    )

    kubectl("delete", "job", "owner", "-n", namespace, "--cascade=background")

    wait_until(
        lambda: not pods_of_job(kubectl, namespace, "owner"),
        timeout=90,
        message="the garbage collector to delete the Job's Pods",
    )


# -- the API server enforces what kron relies on --------------------------------------


def test_crd_with_a_cel_rule_rejects_a_bad_object_at_create(
    kubectl: Kubectl, namespace: str
) -> None:
    suffix = secrets.token_hex(3)
    group, plural, kind = "harness.test.kron.dev", f"widgets{suffix}", f"Widget{suffix}"
    message = "minReplicas must not exceed maxReplicas"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": f"widget{suffix}", "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["minReplicas", "maxReplicas"],
                                    "properties": {
                                        "minReplicas": {"type": "integer"},
                                        "maxReplicas": {"type": "integer"},
                                    },
                                    "x-kubernetes-validations": [
                                        {
                                            "rule": "self.minReplicas <= self.maxReplicas",
                                            "message": message,
                                        }
                                    ],
                                }
                            },
                        }
                    },
                }
            ],
        },
    }

    def widget(name: str, low: int, high: int) -> str:
        return json.dumps(
            {
                "apiVersion": f"{group}/v1",
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"minReplicas": low, "maxReplicas": high},
            }
        )

    kubectl("apply", "-f", "-", input=json.dumps(crd))
    try:
        kubectl("wait", f"crd/{plural}.{group}", "--for=condition=Established", "--timeout=60s")
        # Established can precede the first request being served by a moment.
        wait_until(
            lambda: kubectl("create", "-f", "-", input=widget("good", 1, 3)),
            timeout=60,
            message="a valid object to be accepted",
            ignore=(KubectlError,),
        )

        bad = kubectl("create", "-f", "-", input=widget("bad", 5, 2), check=False)

        assert bad.returncode != 0
        assert message in bad.stderr
        missing = kubectl("get", f"{plural}.{group}", "bad", "-n", namespace, check=False)
        assert "NotFound" in missing.stderr
    finally:
        kubectl("delete", "crd", f"{plural}.{group}", "--wait=false", check=False)


def test_service_account_without_a_role_binding_is_denied(
    cluster: ClusterHandle, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    subject = f"system:serviceaccount:{namespace}:robot"

    can_i = kubectl(
        "auth", "can-i", "list", "pods", "-n", namespace, f"--as={subject}", check=False
    )
    assert (can_i.returncode, can_i.stdout.strip()) == (1, "no")

    # A real request with the ServiceAccount's own token, not impersonation.
    token = kubectl("create", "token", "robot", "-n", namespace).stdout.strip()
    admin = yaml.safe_load(kubectl("config", "view", "--raw", "--minify", "-o", "yaml").stdout)
    as_robot_config = tmp_path / "robot.kubeconfig"
    as_robot_config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": admin["clusters"],
                "users": [{"name": "robot", "user": {"token": token}}],
                "contexts": [
                    {
                        "name": "robot",
                        "context": {"cluster": admin["clusters"][0]["name"], "user": "robot"},
                    }
                ],
                "current-context": "robot",
            }
        )
    )
    as_robot = dataclasses.replace(cluster, kubeconfig=str(as_robot_config)).kubectl

    denied = as_robot("get", "pods", "-n", namespace, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr and subject in denied.stderr

    # The same request is allowed once RBAC says so: the denial was RBAC's, not the token's.
    kubectl(
        "create", "rolebinding", "robot-view", "--clusterrole=view",
        f"--serviceaccount={namespace}:robot", "-n", namespace,
    )  # fmt: skip
    wait_until(
        lambda: as_robot("get", "pods", "-n", namespace),
        timeout=30,
        message="the RoleBinding to take effect",
        ignore=(KubectlError,),
    )


# -- the harness: components die and come back ----------------------------------------


def test_cluster_up_again_reuses_the_running_components(local_cluster: LocalCluster) -> None:
    before = local_cluster.status()

    local_cluster.up()

    after = local_cluster.status()
    assert after["up"]
    for name in COMPONENTS:
        assert after["components"][name]["pid"] == before["components"][name]["pid"], name
        assert after["components"][name]["ports"] == before["components"][name]["ports"], name


def test_cluster_up_restarts_a_component_whose_command_line_changed(
    local_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_cluster.up()  # records every component's command line
    before = local_cluster.status()["components"]
    monkeypatch.setattr(
        components, "CONTROLLERS", (*components.CONTROLLERS, "persistentvolume-binder-controller")
    )
    local_cluster.up()
    after = local_cluster.status()["components"]
    assert after["kube-controller-manager"]["pid"] != before["kube-controller-manager"]["pid"]
    for name in (ETCD, APISERVER):
        assert after[name]["pid"] == before[name]["pid"], name
    monkeypatch.undo()
    local_cluster.up()  # back to the pinned command line
    assert (
        local_cluster.status()["components"]["kube-controller-manager"]["pid"]
        != after["kube-controller-manager"]["pid"]
    )


async def test_apiserver_killed_and_restarted_comes_back_and_a_watch_resumes(
    cluster: ClusterHandle, local_cluster: LocalCluster, kubectl: Kubectl, namespace: str
) -> None:
    configuration = aio_client.Configuration()
    await aio_config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=cluster.kubeconfig, client_configuration=configuration
    )
    seen: set[str] = set()
    stats = WatchStats()
    async with aio_client.ApiClient(configuration=configuration) as api:
        core = aio_client.CoreV1Api(api)

        async def consume() -> None:
            async for event in resuming_watch(
                core.list_namespaced_config_map, namespace=namespace, stats=stats
            ):
                seen.add(event["object"].metadata.name)

        watcher = asyncio.create_task(consume())
        try:
            await asyncio.to_thread(kubectl, "create", "configmap", "before", "-n", namespace)
            await async_wait_until(
                lambda: "before" in seen, timeout=30, message="the watch to see 'before'"
            )

            await asyncio.to_thread(local_cluster.kill, APISERVER)
            assert not local_cluster.is_running(APISERVER)
            await asyncio.to_thread(local_cluster.start, APISERVER)

            await asyncio.to_thread(kubectl, "create", "configmap", "after", "-n", namespace)
            await async_wait_until(
                lambda: "after" in seen,
                timeout=60,
                message=f"the watch to resume and see 'after' ({stats})",
            )
            assert stats.reconnects >= 1, "the watch never noticed the API server going away"
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def test_etcd_killed_and_restarted_keeps_the_data(
    local_cluster: LocalCluster, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "keep", "-n", namespace, "--from-literal=answer=42")

    local_cluster.kill(ETCD)
    assert not local_cluster.is_running(ETCD)
    local_cluster.start(ETCD)
    local_cluster.wait_healthy(APISERVER, timeout=120)

    answer = wait_until(
        lambda: (
            kubectl(
                "get", "configmap", "keep", "-n", namespace, "-o", "jsonpath={.data.answer}"
            ).stdout
        ),
        timeout=60,
        message="the ConfigMap written before the kill to be readable",
        ignore=(KubectlError,),
    )
    assert answer == "42"
    # And the store takes writes again.
    kubectl("create", "configmap", "after-restart", "-n", namespace)
