"""What each control-plane component is started with, and why.

Every flag that differs from upstream defaults is here with its reason, so a benchmark can
state exactly what it ran against. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from localcluster import pki as pki_mod
from localcluster.layout import Layout
from localcluster.pki import Pki

ETCD = "etcd"
APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
KWOK = "kwok"
# Start order; stop order is the reverse.
COMPONENTS: tuple[str, ...] = (ETCD, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK)

STAGES_FILE = Path(__file__).with_name("stages.yaml")
# kwok manages only Nodes carrying this annotation (bootstrap.py creates them), so a Node
# someone adds by hand for another purpose is left alone.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")

# Controllers kron needs from kube-controller-manager (1.33's names, as --help lists them):
# - job, cronjob: run Pods for Jobs; CronJob is the baseline kron is compared against;
# - garbage-collector: ownerReference cascades (a task's runs go with it);
# - namespace: test namespaces really get deleted;
# - serviceaccount, serviceaccount-token: every namespace gets its `default` SA (Pods
#   are rejected without it) and SA tokens work, so RBAC tests use real identities;
# - ttl-after-finished: Jobs with ttlSecondsAfterFinished are cleaned up;
# - deployment, replicaset: the operator itself and test Deployments run as Pods;
# - root-ca-certificate-publisher: the kube-root-ca.crt ConfigMap SA token volumes name;
# - clusterrole-aggregation: fills the aggregated ClusterRoles view, edit and admin
#   (empty without it), which charts and RoleBindings commonly grant;
# - resourcequota: publishes quota usage; without it ResourceQuota admission lets every
#   create through, and tenancy tests (a quota refusing a run) would test nothing.
CONTROLLERS = (
    "job-controller",
    "cronjob-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "ttl-after-finished-controller",
    "deployment-controller",
    "replicaset-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    "resourcequota-controller",
)

# Upstream defaults are 400 and 200, sized for API servers shared by many tenants. Their
# sum is API Priority and Fairness's total concurrency, which APF splits by priority
# level: an operator running as a ServiceAccount lands in `workload-low` and gets only a
# share of it. kron's throughput benchmark bursts Job creations; with the defaults, APF
# would queue and reject (429) those bursts and the benchmark would measure the limiter.
# Raised 3x: on two cores CPU stays the real limit. (system:masters clients, such as the
# admin kubeconfig, are exempt from APF either way.)
APISERVER_MAX_REQUESTS_INFLIGHT = 1200
APISERVER_MAX_MUTATING_REQUESTS_INFLIGHT = 600
# Upstream default is 2 GiB. Long benchmarks churn many Jobs and Pods between the API
# server's 5-minute compactions; 8 GiB (etcd's suggested maximum) avoids "database
# space exceeded" halfway through a run. The data dir only grows with actual use.
ETCD_QUOTA_BACKEND_BYTES = 8 * 1024**3


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Tunables chosen at ``up`` time and kept in the state file, so a restarted
    component runs exactly as before."""

    # kube-controller-manager's client rate limit. It caps how fast the Job and CronJob
    # controllers write; upstream defaults, override with KRON_KCM_QPS / KRON_KCM_BURST.
    kcm_qps: int = 20
    kcm_burst: int = 30
    # kube-scheduler's client rate limit (binding Pods); upstream defaults 50/100,
    # override with KRON_SCHEDULER_QPS / KRON_SCHEDULER_BURST.
    scheduler_qps: int = 50
    scheduler_burst: int = 100
    # Simulated nodes; KRON_SIM_NODES.
    nodes: int = 3

    @classmethod
    def from_env(cls, base: Settings | None = None) -> Settings:
        """``base`` (default: upstream values) with whatever the environment sets."""
        b = base or cls()
        return cls(
            kcm_qps=_env_int("KRON_KCM_QPS", b.kcm_qps),
            kcm_burst=_env_int("KRON_KCM_BURST", b.kcm_burst),
            scheduler_qps=_env_int("KRON_SCHEDULER_QPS", b.scheduler_qps),
            scheduler_burst=_env_int("KRON_SCHEDULER_BURST", b.scheduler_burst),
            nodes=_env_int("KRON_SIM_NODES", b.nodes),
        )

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Settings:
        known = {k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    kube_apiserver: int
    kube_controller_manager: int
    kube_scheduler: int
    kwok: int

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Ports:
        return cls(**{k: int(v) for k, v in data.items()})

    def of(self, component: str) -> list[int]:
        """The ports a component listens on (it must get them back on restart)."""
        return {
            ETCD: [self.etcd_client, self.etcd_peer],
            APISERVER: [self.kube_apiserver],
            CONTROLLER_MANAGER: [self.kube_controller_manager],
            SCHEDULER: [self.kube_scheduler],
            KWOK: [self.kwok],
        }[component]


@dataclass(frozen=True)
class Context:
    """Everything a command line is built from."""

    bin_dir: Path
    layout: Layout
    pki: Pki
    ports: Ports
    settings: Settings

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.kube_apiserver}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.etcd_client}"


def _etcd(c: Context) -> list[str]:
    peer = f"http://127.0.0.1:{c.ports.etcd_peer}"
    return [
        str(c.bin_dir / ETCD),
        "--name=kron-local",
        f"--data-dir={c.layout.etcd_data}",
        f"--listen-client-urls={c.etcd_url}",
        f"--advertise-client-urls={c.etcd_url}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=kron-local={peer}",
        # A throw-away test store: skipping fsync makes writes much faster on shared
        # disks. Data still survives a process kill (page cache), not a power cut.
        "--unsafe-no-fsync",
        f"--quota-backend-bytes={ETCD_QUOTA_BACKEND_BYTES}",
    ]


def _apiserver(c: Context) -> list[str]:
    p = c.pki
    return [
        str(c.bin_dir / APISERVER),
        "--bind-address=127.0.0.1",
        # Without it the server derives an address from the default route and fails on a
        # machine that has none.
        "--advertise-address=127.0.0.1",
        f"--secure-port={c.ports.kube_apiserver}",
        f"--etcd-servers={c.etcd_url}",
        # Never write self-signed certs to /var/run/kubernetes (the default).
        f"--cert-dir={c.layout.root / 'apiserver-certs'}",
        f"--tls-cert-file={p.serving_cert}",
        f"--tls-private-key-file={p.serving_key}",
        f"--client-ca-file={p.ca_cert}",
        # Published in kube-system/extension-apiserver-authentication, where the
        # controller manager's and scheduler's delegated authentication expect it (they
        # log errors every few seconds without it). Only a certificate named
        # front-proxy-client may assert identities through headers, and none is issued.
        f"--requestheader-client-ca-file={p.ca_cert}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={p.sa_pub}",
        f"--service-account-signing-key-file={p.sa_key}",
        f"--service-cluster-ip-range={pki_mod.SERVICE_CLUSTER_IP_RANGE}",
        "--allow-privileged=true",
        # This admission plugin taints every new Node not-ready:NoSchedule and leaves it to
        # the node-lifecycle controller to lift the taint once the Node is Ready. That
        # controller is not run here (under benchmark load it would taint kwok's Nodes
        # unreachable and evict Pods whenever a lease renewal lags), so the taint would
        # stay forever and nothing would schedule.
        "--disable-admission-plugins=TaintNodesByCondition",
        # The `kubernetes` Service would get a 127.0.0.1 endpoint, which Endpoints
        # validation forbids; nothing in a simulated cluster dials it anyway.
        "--endpoint-reconciler-type=none",
        f"--max-requests-inflight={APISERVER_MAX_REQUESTS_INFLIGHT}",
        f"--max-mutating-requests-inflight={APISERVER_MAX_MUTATING_REQUESTS_INFLIGHT}",
    ]


def _controller_manager(c: Context) -> list[str]:
    kc = c.layout.component_kubeconfig(CONTROLLER_MANAGER)
    return [
        str(c.bin_dir / CONTROLLER_MANAGER),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1",
        f"--secure-port={c.ports.kube_controller_manager}",
        f"--controllers={','.join(CONTROLLERS)}",
        "--leader-elect=false",
        # Each controller acts as its own ServiceAccount, as on kubeadm clusters, so RBAC
        # for controllers is the real bootstrap policy.
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={c.pki.sa_key}",
        f"--root-ca-file={c.pki.ca_cert}",
        "--cluster-name=kron-local",
        f"--kube-api-qps={c.settings.kcm_qps}",
        f"--kube-api-burst={c.settings.kcm_burst}",
    ]


def _scheduler(c: Context) -> list[str]:
    kc = c.layout.component_kubeconfig(SCHEDULER)
    return [
        str(c.bin_dir / SCHEDULER),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1",
        f"--secure-port={c.ports.kube_scheduler}",
        "--leader-elect=false",
        f"--kube-api-qps={c.settings.scheduler_qps}",
        f"--kube-api-burst={c.settings.scheduler_burst}",
    ]


def _kwok(c: Context) -> list[str]:
    key, value = KWOK_NODE_ANNOTATION
    return [
        str(c.bin_dir / KWOK),
        f"--kubeconfig={c.layout.kubeconfig}",
        # Pod stages written for kron (stages.yaml) replace kwok's default Pod stages;
        # Node stages stay kwok's defaults (initialize, heartbeat with leases).
        f"--config={STAGES_FILE}",
        f"--manage-nodes-with-annotation-selector={key}={value}",
        # With 0, v0.7.0 falls back to a 10-minute status heartbeat and nodes can drift
        # NotReady; 40s leases keep them Ready.
        "--node-lease-duration-seconds=40",
        f"--server-address=127.0.0.1:{c.ports.kwok}",
    ]


def command(component: str, c: Context) -> list[str]:
    builders = {
        ETCD: _etcd,
        APISERVER: _apiserver,
        CONTROLLER_MANAGER: _controller_manager,
        SCHEDULER: _scheduler,
        KWOK: _kwok,
    }
    return builders[component](c)


def environment(component: str, c: Context) -> dict[str, str]:
    env = dict(os.environ)
    # Components take their endpoints from flags; an inherited KUBECONFIG must not leak in.
    env.pop("KUBECONFIG", None)
    if component == KWOK:
        c.layout.kwok_home.mkdir(parents=True, exist_ok=True)
        env["HOME"] = str(c.layout.kwok_home)
    return env
