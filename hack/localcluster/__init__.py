"""A real Kubernetes control plane as local processes, for kron's tests and benchmarks.

These machines have no container engine, so kind cannot run. Instead etcd,
kube-apiserver, kube-controller-manager and kube-scheduler run as plain processes built
from pinned Go modules, and kwok plays the kubelets of a few simulated Nodes, so Pods of
Jobs really start and finish (see ``stages.yaml``).

Public surface: ``LocalCluster`` (``up``/``down``/``status`` and per-component
``start``/``stop``/``kill``/``restart``/``wait_healthy``/``is_running``), the component
names, and ``ClusterError``. ``python -m localcluster up|down|status`` is the CLI.
"""

from localcluster.cluster import ClusterError, LocalCluster
from localcluster.components import (
    APISERVER,
    COMPONENTS,
    CONTROLLER_MANAGER,
    ETCD,
    KWOK,
    SCHEDULER,
)

__all__ = [
    "APISERVER",
    "COMPONENTS",
    "CONTROLLER_MANAGER",
    "ETCD",
    "KWOK",
    "SCHEDULER",
    "ClusterError",
    "LocalCluster",
]
