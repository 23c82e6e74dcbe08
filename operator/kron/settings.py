"""Operator settings: one frozen object, filled from flags and environment by `kron run`.

Every knob is documented here, where it is defined; `kron run --help` and the Helm
chart's values.yaml repeat these descriptions.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

MAX_WEIGHT = 1000.0
MIN_WEIGHT = 0.001


def parse_weights(pairs: tuple[str, ...]) -> dict[str, float]:
    """`("a=2", "b=0.5")` -> {"a": 2.0, "b": 0.5}; ValueError naming the bad pair."""
    weights: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"expected namespace=weight, got {pair!r}")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"weight of {name!r} is not a number: {value.strip()!r}") from None
        if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            raise ValueError(
                f"weight of {name!r} must be between {MIN_WEIGHT:g} and {MAX_WEIGHT:g}, "
                f"got {value.strip()}"
            )
        if name in weights:
            raise ValueError(f"namespace {name!r} is listed twice")
        weights[name] = weight
    return weights


class SettingsError(Exception):
    """A setting kron cannot start with that shows only when it is used: a kubeconfig
    the client cannot load, a metrics port another process holds. `kron run` prints it
    as one line and exits 1, as for a value it refuses before starting."""


def default_identity() -> str:
    """Pod name in a cluster (HOSTNAME), host name elsewhere, plus the PID."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Settings:
    kubeconfig: str | None = None
    """Kubeconfig file; unset: $KUBECONFIG or ~/.kube/config, else the in-cluster account."""
    context: str | None = None
    """Kubeconfig context; unset: the current one."""
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty: all (cluster-wide RBAC needed)."""

    qps: float = 200.0
    """Client-side rate limit for all API writes and reads kron starts (requests/s).
    Creates of due runs go first, then Replace deletes, status, cleanup and events."""
    burst: int = 400
    """Token-bucket burst on top of `qps` (a herd of ticks on one second drains at burst)."""
    workers: int = 32
    """Concurrent API requests in flight (also the HTTP connection pool size)."""
    namespace_weights: tuple[str, ...] = ()
    """Share of the rate limit each namespace gets when namespaces compete, as
    `namespace=weight` pairs (e.g. `prod=4,batch=0.5`); unlisted namespaces weigh 1.
    Within each priority lane namespaces take turns by weight (deficit round robin)."""

    status_interval: float = 10.0
    """Seconds kron gathers a task's progress (runs created and finished, the times
    and counts they move) into one status write; a task writes progress at most
    once per interval. While one of its runs is still going, the write waits for
    that run to end, up to six intervals, so a run that ends within a minute costs
    one write for its start and its end. Changes of its conditions, of the spec
    generation it observed and of the requests it acted on are written at once.
    0: every change at once."""

    leader_election: bool = True
    """Lease-based leader election: one replica dispatches, the others keep a warm index."""
    lease_name: str = "kron-operator"
    """Name of the coordination.k8s.io Lease the replicas compete for."""
    lease_namespace: str = "default"
    """Namespace of the Lease (the operator's own namespace in a cluster)."""
    lease_duration: float = 15.0
    """Seconds a standby waits after the last renewal it saw before taking over a
    crashed leader (a graceful stop hands over within one retry period)."""
    renew_deadline: float = 10.0
    """Seconds a leader keeps trying to renew before it stops dispatching; must be
    below `lease_duration`, so it stops before anyone else may start."""
    retry_period: float = 2.0
    """Seconds between renewals, and between a standby's attempts to acquire."""
    identity: str = field(default_factory=default_identity)
    """This replica's name in the Lease."""

    shard_index: int = 0
    shard_count: int = 1
    """Handle only tasks whose UID hashes to a bucket (0-255) equal to `shard_index`
    modulo `shard_count` (at most 256); each shard watches only its own runs (the API
    server filters them by their `kron.dev/shard` label). One Lease per shard: the
    lease name gets a `-<index>` suffix when count > 1."""

    metrics_port: int = 8080
    """Port of /metrics, /healthz and /readyz (0: none)."""
    metrics_per_task: bool = False
    """Also export kron_task_* series labelled with task names (high cardinality)."""

    event_burst_per_task: int = 10
    event_refill_seconds: float = 30.0
    """Each task may post `event_burst_per_task` Events at once, then one per
    `event_refill_seconds`; identical Events within 10 minutes are aggregated."""
    routine_events: bool = False
    """Also post an Event for every run created (Fired), every run that succeeded
    (Succeeded) and every removal of runs beyond the history limits (Deleted). Off:
    those are in status.history and the metrics, and at a few fires a second they
    were most of the requests kron sent besides the creates. Events of anything else
    (failures, misses, skips, replacements) are always posted."""
    max_pending_events: int = 100
    """Events waiting (for the operator-wide budget of 5 a second, shared fairly between
    namespaces, or for a worker) beyond this are dropped and counted in
    kron_events_dropped_total; one namespace may fill at most half. 100 is 20 s of
    budget: an Event is posted within about that, or not at all."""

    watch_timeout: int = 300
    """Seconds after which the API server ends each watch and kopf re-opens it from
    the last resourceVersion (lower it behind proxies with short idle timeouts)."""

    json_logs: bool = False
    """One JSON object per log line (for log pipelines) instead of plain text."""
    log_level: str = "INFO"
    """DEBUG, INFO, WARNING or ERROR; kopf's own per-event chatter stays at WARNING."""

    @property
    def weights(self) -> dict[str, float]:
        """`namespace_weights` as a mapping (checked by `kron run`: see parse_weights)."""
        return parse_weights(self.namespace_weights)

    @property
    def lease_object_name(self) -> str:
        return self.lease_name if self.shard_count == 1 else f"{self.lease_name}-{self.shard_index}"
