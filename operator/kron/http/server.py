"""The operator's own small HTTP server: /metrics, /healthz and /readyz.

Kubernetes probes and Prometheus scrapes need one port each replica answers on,
leader or standby. The probes are callables returning `(ok, reason)` so this module
knows nothing about the engine: the caller decides what alive and ready mean, and a
failing probe answers 500 with its reason, which `kubectl describe pod` then shows.

The server runs on the operator's own event loop (aiohttp, which the asyncio
Kubernetes client already brings in), the loop that fires runs and renews the Lease.
So nothing a client does may hold that loop: the page is rendered in a worker thread
and shared (kron.http.scrape), a probe only calls its callable, and `HttpLimits`
bounds what any client costs: request size, connections, their lifetime, scrapes in
flight and per second, the time a scraper may take to read, and the log lines a
flood of bad requests leaves (kron.http.guard).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from kron.http.guard import GuardedServer, PeerLog, TokenBucket, one_line
from kron.http.scrape import METRICS_CACHE_SECONDS, MetricsPage, accepts_gzip
from kron.logs import Throttled
from kron.metrics import Metrics

log = logging.getLogger(__name__)

Probe = Callable[[], tuple[bool, str]]
"""(healthy, reason): the reason is the body of the 500 answer when not healthy."""

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic Prometheus text format, which `generate_latest` writes."""


@dataclass(frozen=True)
class HttpLimits:
    """What one client may cost the operator. The defaults are `kron run`'s; each is
    far above what the kubelet and a pair of Prometheus servers need."""

    metrics_cache_seconds: float = METRICS_CACHE_SECONDS
    """A rendering of /metrics is served for this long after it finished."""
    scrapes_in_flight: int = 4
    """/metrics answers being prepared or sent at once; more get 503 (this bounds the
    memory held by pages on their way to slow readers)."""
    scrape_burst: int = 10
    """/metrics answers at once before the rate below applies; more get 429."""
    scrapes_per_second: float = 10.0
    """Sustained /metrics answers per second (Prometheus asks about every 30 s)."""
    send_seconds: float = 10.0
    """A scraper must have taken the whole page within this; else it is cut off."""
    max_connections: int = 64
    """Open connections; one more closes the oldest idle one."""
    connection_seconds: float = 30.0
    """Lifetime of a connection: then it is closed, after its current answer."""
    keepalive_seconds: float = 5.0
    """An idle kept-alive connection is closed after this."""
    max_line_bytes: int = 4096
    """Longest request line (a longer one is answered 400)."""
    max_field_bytes: int = 8190
    """Longest header line (room for a bearer token)."""
    max_headers: int = 32
    """Most header lines in a request."""
    linger_seconds: float = 1.0
    """How long an unread request body is read and dropped before closing."""
    log_burst: int = 5
    """Lines about clients (bad requests, refusals) logged per `log_per_seconds`; the
    next line that gets through says how many were held back."""
    log_per_seconds: float = 60.0
    shutdown_seconds: float = 5.0
    """`stop()` waits this long for answers under way."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0 or (value == 0 and name != "metrics_cache_seconds"):
                raise ValueError(f"HttpLimits.{name} must be positive, not {value}")


class HttpServer:
    """A running server; `stop()` closes the port and waits for open requests."""

    def __init__(self, runner: web.ServerRunner, port: int, endpoints: _Endpoints) -> None:
        self._runner = runner
        self._port = port
        self._endpoints = endpoints

    @property
    def port(self) -> int:
        """The port bound (the one picked by the OS when started with port 0)."""
        return self._port

    @property
    def renders(self) -> int:
        """Renderings of /metrics so far."""
        return self._endpoints.page.renders

    @property
    def open_connections(self) -> int:
        return self._endpoints.server.open_connections

    async def stop(self) -> None:
        try:
            await self._runner.cleanup()
        finally:
            self._endpoints.page.close()


def _text(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def _probe_handler(name: str, probe: Probe) -> Handler:
    async def handle(_: web.BaseRequest) -> web.StreamResponse:
        try:
            ok, reason = probe()
        except Exception as err:  # a broken probe is a failing probe, not a 500 page
            log.exception("%s probe raised", name)
            ok, reason = False, f"{name} probe raised {type(err).__name__}: {err}"
        if ok:
            return _text(200, "ok")
        return _text(500, one_line(reason or "not " + name, 1000))

    return handle


class _Endpoints:
    """Routing, the scrape limits, and the counting and logging of refusals."""

    server: GuardedServer

    def __init__(
        self, metrics: Metrics, liveness: Probe, readiness: Probe, limits: HttpLimits
    ) -> None:
        self._rejected = metrics.http_rejected
        self._limits = limits
        self.page = MetricsPage(metrics.registry, limits.metrics_cache_seconds)
        self.lines = Throttled(log, burst=limits.log_burst, per=limits.log_per_seconds)
        self._scrape_budget = TokenBucket(limits.scrape_burst, 1 / limits.scrapes_per_second)
        self._scrapes = 0
        self._routes: dict[str, Handler] = {
            "/metrics": self._metrics,
            "/healthz": _probe_handler("liveness", liveness),
            "/readyz": _probe_handler("readiness", readiness),
        }

    def count(self, reason: str) -> None:
        self._rejected.labels(reason).inc()

    def note(self, message: str) -> None:
        """Log one line about a client, within the budget shared with PeerLog."""
        self.lines.log(logging.WARNING, "%s", message)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        route = self._routes.get(request.path)
        if route is None:
            return _text(404, "not found")
        if request.method != "GET":
            return _text(405, "only GET", Allow="GET")
        self.server.mark(request.protocol, busy=True)
        try:
            return await route(request)
        except Exception as err:  # never aiohttp's traceback page and log
            self.count("error")
            self.note(f"{request.path} failed: {type(err).__name__}: {one_line(str(err))}")
            return _text(500, "internal error")
        finally:
            self.server.mark(request.protocol, busy=False)

    def _refuse(self, request: web.BaseRequest, status: int, reason: str, why: str) -> web.Response:
        self.count(reason)
        self.note(f"/metrics from {request.remote}: {why}; answered {status}")
        return _text(status, why, **{"Retry-After": "1"})

    async def _metrics(self, request: web.BaseRequest) -> web.StreamResponse:
        limits = self._limits
        if self._scrapes >= limits.scrapes_in_flight:
            return self._refuse(request, 503, "busy", f"{self._scrapes} scrapes in flight")
        if not self._scrape_budget.take():
            return self._refuse(
                request, 429, "rate_limited", f"over {limits.scrapes_per_second:g} scrapes/s"
            )
        self._scrapes += 1
        try:
            page = await self.page.get()
            gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
            response = web.StreamResponse(
                headers={"Content-Type": METRICS_CONTENT_TYPE, "Vary": "Accept-Encoding"}
            )
            if gzipped:
                response.headers["Content-Encoding"] = "gzip"
            body = page.gzipped if gzipped else page.text
            response.content_length = len(body)
            try:
                async with asyncio.timeout(limits.send_seconds):
                    await response.prepare(request)
                    await response.write(body)
                    await response.write_eof()
            except TimeoutError:
                self.count("too_slow")
                self.note(
                    f"/metrics to {request.remote} not taken within {limits.send_seconds:g}s:"
                    " connection cut"
                )
                if request.transport is not None:
                    request.transport.abort()
            return response
        finally:
            self._scrapes -= 1


def listen_everywhere(port: int) -> socket.socket:
    """A listening socket on every address of the host, IPv4 and IPv6 alike.

    One dual-stack socket on ``::`` (IPv4 clients arrive as IPv4-mapped addresses) where
    the kernel has IPv6, so probes reach it on IPv4-only, dual-stack and IPv6-only
    clusters, on one port even when `port` is 0; an IPv4 socket on 0.0.0.0 where the
    kernel has no IPv6 at all.
    """
    if socket.has_dualstack_ipv6():
        try:
            return socket.create_server(("::", port), family=socket.AF_INET6, dualstack_ipv6=True)
        except OSError as err:  # IPv6 compiled in but unusable here; a busy port is an error
            if err.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                raise
    return socket.create_server(("0.0.0.0", port))


async def start_http(
    port: int,
    metrics: Metrics,
    liveness: Probe,
    readiness: Probe,
    host: str | None = None,
    *,
    limits: HttpLimits | None = None,
) -> HttpServer:
    """Serve /metrics, /healthz (liveness) and /readyz (readiness) until `stop()`.

    `host` None (the operator's case: probes and scrapes come from outside the Pod, to
    whichever address family the cluster gives Pods): every address, IPv4 and IPv6
    (see `listen_everywhere`); else that address only (the tests bind 127.0.0.1).
    """
    limits = limits or HttpLimits()
    endpoints = _Endpoints(metrics, liveness, readiness, limits)
    endpoints.server = GuardedServer(
        endpoints.handle,
        max_connections=limits.max_connections,
        connection_seconds=limits.connection_seconds,
        count=endpoints.count,
        note=endpoints.note,
        logger=PeerLog(log, endpoints.lines, endpoints.count),
        access_log=None,
        keepalive_timeout=limits.keepalive_seconds,
        max_line_size=limits.max_line_bytes,
        max_field_size=limits.max_field_bytes,
        max_headers=limits.max_headers,
        lingering_time=limits.linger_seconds,
    )
    runner = web.ServerRunner(
        endpoints.server, handle_signals=False, shutdown_timeout=limits.shutdown_seconds
    )
    await runner.setup()
    sock: socket.socket | None = None
    try:
        site: web.BaseSite
        if host is None:
            sock = listen_everywhere(port)
            site = web.SockSite(runner, sock)
            where = "[::]" if sock.family == socket.AF_INET6 else "0.0.0.0"
        else:
            site, where = web.TCPSite(runner, host, port), host
        await site.start()
    except BaseException:
        if sock is not None:
            sock.close()
        await runner.cleanup()
        endpoints.page.close()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("serving /metrics, /healthz and /readyz on %s:%d", where, bound)
    return HttpServer(runner, int(bound), endpoints)
