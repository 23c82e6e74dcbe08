"""Prometheus metrics of the operator, served on /metrics.

Labels stay low-cardinality: `namespace`, `trigger`, `result`, `reason`, and for API
calls `verb`, `resource` and `code`; never a task name, unless the operator runs
with per-task metrics on (`--metrics-per-task`), which adds the separate
`kron_task_*` series. A private registry (not the process-global default) keeps
tests and embedded use independent.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LAG_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
"""Fire lag from 5 ms to 10 minutes (api.md)."""
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
WAIT_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip
"""Time a job waits in the work pool, 1 ms to 5 minutes."""
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Every metric kron exports, on one registry."""

    def __init__(self, *, per_task: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.per_task = per_task
        r = self.registry
        self.fires = Counter(
            "kron_fires", "Runs created, by trigger.", ["namespace", "trigger"], registry=r
        )
        self.fire_lag = Histogram(
            "kron_fire_lag_seconds",
            "From a tick's fire time (nominal + jitter) to its run being created.",
            ["trigger"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.runs_finished = Counter(
            "kron_runs_finished",
            "Runs that finished, by result.",
            ["namespace", "result"],
            registry=r,
        )
        self.run_duration = Histogram(
            "kron_run_duration_seconds",
            "From a run's creation to its completion.",
            ["result"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "kron_retries", "Schedule-level retry runs created.", ["namespace"], registry=r
        )
        self.missed = Counter(
            "kron_ticks_missed",
            "Ticks that did not run: Deadline, CatchUp (downtime), CreateExpired (API outage).",
            ["namespace", "reason"],
            registry=r,
        )
        self.skipped = Counter(
            "kron_ticks_skipped",
            "Ticks skipped on purpose: Forbid, Suspended, Excluded, QueueFull, Replaced, ...",
            ["namespace", "reason"],
            registry=r,
        )
        self.tasks = Gauge(
            "kron_tasks", "Tasks by state (the Ready condition's reason).", ["state"], registry=r
        )
        self.active_runs = Gauge("kron_active_runs", "Runs not finished.", registry=r)
        self.tasks_overdue = Gauge(
            "kron_tasks_overdue",
            "Tasks with Overdue=True (no run succeeded within successDeadlineSeconds of a "
            "due tick), by namespace; namespaces with none have no series.",
            ["namespace"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "kron_queue_depth",
            "Work waiting: due (tasks past their wake time), create, delete, status, cleanup, "
            "event.",
            ["queue"],
            registry=r,
        )
        self.queue_wait = Histogram(
            "kron_queue_wait_seconds",
            "From a job's submission to the work pool to its start, by lane.",
            ["lane"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.api_requests = Counter(
            "kron_api_requests",
            "Requests to the API server by verb, resource and HTTP code (0: no answer).",
            ["verb", "resource", "code"],
            registry=r,
        )
        self.api_latency = Histogram(
            "kron_api_request_duration_seconds",
            "Latency of requests to the API server.",
            ["verb", "resource"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.leader = Gauge("kron_leader", "1 while this replica leads (dispatches).", registry=r)
        self.leader_transitions = Counter(
            "kron_leader_transitions", "Times this replica gained or lost leadership.", registry=r
        )
        self.synced = Gauge("kron_synced", "1 once the task and run index is loaded.", registry=r)
        self.status_writes = Counter(
            "kron_status_writes", "Status patches by result.", ["result"], registry=r
        )
        self.events_dropped = Counter(
            "kron_events_dropped",
            "Kubernetes Events not posted because of the event rate limits.",
            registry=r,
        )
        self.plan_duration = Histogram(
            "kron_plan_duration_seconds",
            "Time the planner takes for one task.",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
            registry=r,
        )
        self.task_errors = Counter(
            "kron_task_errors",
            "Faults inside kron while handling one task (it is reported on the task and "
            "retried), by stage: index, observe, plan, build, record.",
            ["stage"],
            registry=r,
        )
        self.runs_other_shard = Counter(
            "kron_runs_other_shard",
            "Run events received for tasks of another shard or namespace (the watches "
            "select this replica's own server-side, so this stays at zero).",
            registry=r,
        )
        self.writes_fenced = Counter(
            "kron_writes_fenced",
            "Writes not sent because this replica's Lease had lapsed by its own clock "
            "(work queued before a pause, sent after it).",
            registry=r,
        )
        self.plan_budget_exhausted = Counter(
            "kron_plan_budget_exhausted",
            "Plans of one task that reached their work budget (about 50 ms): longer work "
            "continued on a later pass or was counted as a lower bound.",
            registry=r,
        )
        self.runs_ignored = Counter(
            "kron_runs_ignored",
            "Jobs and Pods carrying kron's label that kron does not take as a run of any "
            "task: owner (no ScheduledTask controller reference), namespace (owner in "
            "another namespace), annotation (kron's annotations missing or malformed), "
            "name (not the name kron gives that tick), future (scheduled after it was "
            "created).",
            ["reason"],
            registry=r,
        )
        self.http_rejected = Counter(
            "kron_http_rejected",
            "Requests and connections the metrics/probe port refused or cut, by reason:"
            " malformed, busy, rate_limited, too_slow, connection_limit, error.",
            ["reason"],
            registry=r,
        )
        if per_task:
            self.task_fires = Counter(
                "kron_task_fires", "Runs created per task.", ["namespace", "task"], registry=r
            )
            self.task_last_fire = Gauge(
                "kron_task_last_fire_timestamp_seconds",
                "When each task last created a run.",
                ["namespace", "task"],
                registry=r,
            )
            self.namespace_queue_depth = Gauge(
                "kron_namespace_queue_depth",
                "Jobs waiting in the work pool per lane and namespace.",
                ["lane", "namespace"],
                registry=r,
            )
            self.namespace_queue_wait = Histogram(
                "kron_namespace_queue_wait_seconds",
                "From a job's submission to its start, per lane and namespace.",
                ["lane", "namespace"],
                buckets=WAIT_BUCKETS,
                registry=r,
            )
            self.task_overdue = Gauge(
                "kron_task_overdue",
                "1 for each overdue task (only overdue tasks have a series).",
                ["namespace", "task"],
                registry=r,
            )
            self.task_last_success = Gauge(
                "kron_task_last_success_timestamp_seconds",
                "When each overdue task's last run succeeded (0: never; only overdue tasks).",
                ["namespace", "task"],
                registry=r,
            )

    def observe_request(self, verb: str, resource: str, code: int, seconds: float) -> None:
        self.api_requests.labels(verb, resource, str(code)).inc()
        self.api_latency.labels(verb, resource).observe(seconds)

    def fired(
        self, namespace: str, task: str, trigger: str, lag: float, at: float, *, retry: bool = False
    ) -> None:
        self.fires.labels(namespace, trigger).inc()
        self.fire_lag.labels(trigger).observe(max(lag, 0.0))
        if retry or trigger == "retry":
            self.retries.labels(namespace).inc()
        if self.per_task:
            self.task_fires.labels(namespace, task).inc()
            self.task_last_fire.labels(namespace, task).set(at)
