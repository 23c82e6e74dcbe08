"""`kron run`: wire the operator together and serve until stopped.

Order matters: the index is loaded (runs, then tasks) before anything is planned;
kopf's watches then keep it current; the Lease decides whether this replica
dispatches or stands by with a warm index. SIGTERM stops the elector first (it
steps down, then releases the Lease), so a standby takes over within one retry
period instead of a whole lease duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import kopf

from kron import handlers, logs
from kron.engine import Engine
from kron.http import HttpServer, start_http
from kron.k8s.api import KubeApi
from kron.k8s.leader import LeaseElector
from kron.metrics import Metrics
from kron.settings import Settings, SettingsError

log = logging.getLogger("kron")

GAUGE_INTERVAL = 5.0
KOPF_EXIT_TIMEOUT = 10.0
FLUSH_TIMEOUT = 3.0
"""Seconds a leader stopping on SIGTERM waits for its gathered status writes."""
PART_EXIT_TIMEOUT = 5.0
"""Seconds each part (workers, the HTTP server, each connection) gets to stop on
SIGTERM before kron goes on without it: shutdown stays well inside the chart's
30 s grace period whatever hangs."""
STALL_LIMIT = 30.0
"""/healthz fails when the dispatcher has not turned for this long."""


class Operator:
    """One replica: the engine, kopf's watches, leader election and the probes."""

    def __init__(
        self, settings: Settings, api: KubeApi, metrics: Metrics, watch_api: KubeApi | None = None
    ) -> None:
        self.settings = settings
        self.api = api
        self.metrics = metrics
        self.engine = Engine(api, metrics, settings, watch_api=watch_api)
        self.stop = asyncio.Event()
        self.kopf_stop = asyncio.Event()
        self.kopf_task: asyncio.Task[None] | None = None
        self.workers: list[asyncio.Task[None]] = []
        self.clients: list[KubeApi] = [api] if watch_api is None else [api, watch_api]

    def liveness(self) -> tuple[bool, str]:
        if self.kopf_task is not None and self.kopf_task.done():
            return False, "the kopf watch loop stopped"
        stalled = time.monotonic() - self.engine.heartbeat
        if stalled > STALL_LIMIT:
            return False, f"dispatcher stalled for {stalled:.0f}s"
        return True, ""

    def readiness(self) -> tuple[bool, str]:
        if self.engine.synced:
            return True, ""
        return False, "index not loaded yet" + (
            f" ({self.engine.sync_error})" if self.engine.sync_error else ""
        )

    async def start_watches(self) -> None:
        ready = asyncio.Event()
        self.kopf_task = asyncio.create_task(
            kopf.operator(
                registry=handlers.build_registry(self.engine, self.api),
                settings=handlers.kopf_settings(self.settings),
                clusterwide=not self.settings.namespaces,
                namespaces=self.settings.namespaces,
                standalone=True,
                stop_flag=self.kopf_stop,
                ready_flag=ready,
            ),
            name="kopf",
        )
        # kopf installs its own SIGTERM/SIGINT handlers when it starts; once it is
        # ready, take them back: the shutdown order (Lease first) is kron's.
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait([waiting, self.kopf_task], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        handle_signals(self.stop)

    async def start_workers(self) -> None:
        s = self.settings
        self.workers = [
            asyncio.create_task(self.engine.run(), name="engine"),
            asyncio.create_task(refresh_gauges(self.engine), name="gauges"),
        ]
        if not s.leader_election:
            self.engine.lead()
            self.metrics.leader.set(1)
            return
        # Its own connection: renewals must not queue behind a herd of creates.
        lease_api = await KubeApi.connect(
            s.kubeconfig, context=s.context, pool_size=2, observer=self.metrics.observe_request
        )
        self.clients.append(lease_api)
        elector = LeaseElector(
            lease_api,
            namespace=s.lease_namespace,
            name=s.lease_object_name,
            identity=s.identity,
            lease_duration=s.lease_duration,
            renew_deadline=s.renew_deadline,
            retry_period=s.retry_period,
            on_started=self.engine.lead,
            on_stopped=self.engine.follow,
            metrics=self.metrics,
        )
        # Fencing: no write leaves this replica once its Lease has lapsed by its own
        # clock, including work queued before a pause (SIGSTOP, a long GC, a VM stall).
        self.api.fence = self._fence(elector)
        self.workers.append(asyncio.create_task(elector.run(), name="leader-election"))

    def _fence(self, elector: LeaseElector) -> Callable[[], bool]:
        def may_write() -> bool:
            if elector.may_write():
                return True
            self.metrics.writes_fenced.inc()
            return False

        return may_write

    async def unless_stopped(self, work: Coroutine[Any, Any, None]) -> bool:
        """Run `work` to its end unless SIGTERM/SIGINT comes first; True if it ended."""
        task = asyncio.create_task(work)
        stopper = asyncio.create_task(self.stop.wait())
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        task.result()
        return True

    async def wait(self) -> None:
        """Until SIGTERM/SIGINT, or until a part stops (which is then logged)."""
        assert self.kopf_task is not None
        stopper = asyncio.create_task(self.stop.wait(), name="stop")
        watched = [stopper, self.kopf_task, *self.workers]
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception() is not None:
                log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def shutdown(self) -> None:
        log.info("stopping")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_TIMEOUT):
                await self.engine.flush()
        # The elector was started last: cancelling in reverse steps down, then releases.
        for task in reversed(self.workers):
            task.cancel()
        _, stuck = await asyncio.wait(self.workers, timeout=PART_EXIT_TIMEOUT)
        for task in stuck:
            log.warning("%s did not stop within %ss", task.get_name(), PART_EXIT_TIMEOUT)
        self.kopf_stop.set()
        if self.kopf_task is not None:
            try:
                await asyncio.wait_for(self.kopf_task, timeout=KOPF_EXIT_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("kopf did not stop within %ss", KOPF_EXIT_TIMEOUT)
        log.info("stopped")


DECODE_DEPTH = 25_000
"""Python recursion allowed while decoding objects. The API server admits JSON nested
10,000 levels deep (Go's decoder limit) in the free-form parts of a task, and
Python's JSON decoder recurses once per level: with the default limit (1,000) one
tenant's deeply nested template made every replica fail to load its index."""
STACK_BYTES = 64 * 1024 * 1024
"""Main-thread stack that recursion needs (Linux grows it up to RLIMIT_STACK)."""


def allow_deep_objects() -> None:
    """Let JSON as deep as the API server admits be decoded (kron rejects templates
    deeper than it allows, but first it has to read them)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        wanted = STACK_BYTES if hard == resource.RLIM_INFINITY else min(STACK_BYTES, hard)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_STACK, (wanted, hard))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), DECODE_DEPTH))


async def serve(settings: Settings) -> None:
    logs.configure(settings.log_level, json_lines=settings.json_logs)
    allow_deep_objects()
    handlers.quiet_kopf()
    metrics = Metrics(per_task=settings.metrics_per_task)
    try:
        api = await KubeApi.connect(
            settings.kubeconfig,
            context=settings.context,
            pool_size=settings.workers + 8,
            observer=metrics.observe_request,
        )
    except Exception as err:  # the client raises several unrelated types loading a config
        where = f"kubeconfig {settings.kubeconfig}" if settings.kubeconfig else "the kubeconfig"
        raise SettingsError(f"cannot use {where}: {err}") from err
    # The runs' watches hold their connections open: their own pool, sized for them.
    watches = 2 * max(1, len(settings.namespaces))
    watch_api = await KubeApi.connect(
        settings.kubeconfig,
        context=settings.context,
        pool_size=watches + 2,
        observer=metrics.observe_request,
    )
    replica = Operator(settings, api, metrics, watch_api)
    handle_signals(replica.stop)
    http = None
    try:
        if settings.metrics_port:
            http = await serve_http(settings.metrics_port, metrics, replica)
        log.info(
            "kron starting as %s against %s (namespaces: %s, qps %s, burst %s, workers %s)",
            settings.identity,
            api.host,
            ",".join(settings.namespaces) or "all",
            settings.qps,
            settings.burst,
            settings.workers,
        )
        if await replica.unless_stopped(replica.engine.sync()):
            await replica.start_watches()
            await replica.start_workers()
            await replica.wait()
            await replica.shutdown()
    finally:
        closing = [client.close() for client in replica.clients]
        if http is not None:
            closing.append(http.stop())
        for close in closing:
            try:
                await asyncio.wait_for(close, PART_EXIT_TIMEOUT)
            except TimeoutError:
                log.warning("a connection did not close within %ss", PART_EXIT_TIMEOUT)


async def serve_http(port: int, metrics: Metrics, replica: Operator) -> HttpServer:
    """The probes' and metrics' port; a port that cannot be had is a bad setting."""
    try:
        return await start_http(port, metrics, replica.liveness, replica.readiness)
    except OSError as err:
        raise SettingsError(
            f"--metrics-port (KRON_METRICS_PORT) {port}: {err.strerror or err}"
        ) from err


def handle_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)


def dump_tasks() -> None:
    """SIGUSR1: log every asyncio task and where it waits (to diagnose a hang)."""
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=3)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames) or "-"
        log.warning("task %s: %s", task.get_name(), where)


async def refresh_gauges(engine: Engine) -> None:
    while True:
        try:
            engine.refresh_gauges()
        except Exception:  # gauges are a view: a fault here must not end the process
            log.exception("refreshing the gauges failed")
        await asyncio.sleep(GAUGE_INTERVAL)
