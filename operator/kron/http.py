"""The operator's own small HTTP server: /metrics, /healthz and /readyz.

Kubernetes probes and Prometheus scrapes need one port each replica answers on,
leader or standby. The probes are callables returning `(ok, reason)` so this module
knows nothing about the engine: the caller decides what alive and ready mean, and a
failing probe answers 500 with its reason, which `kubectl describe pod` then shows.
aiohttp is used because the asyncio Kubernetes client already brings it in; serving
from the operator's own event loop needs no thread.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from kron.metrics import Metrics

log = logging.getLogger(__name__)

Probe = Callable[[], tuple[bool, str]]
"""(healthy, reason): the reason is the body of the 500 answer when not healthy."""

METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic Prometheus text format, which `generate_latest` writes."""


class HttpServer:
    """A running server; `stop()` closes the port and waits for open requests."""

    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self._runner = runner
        self._port = port

    @property
    def port(self) -> int:
        """The port bound (the one picked by the OS when started with port 0)."""
        return self._port

    async def stop(self) -> None:
        await self._runner.cleanup()


def _probe_handler(
    name: str, probe: Probe
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(_: web.Request) -> web.StreamResponse:
        try:
            ok, reason = probe()
        except Exception as err:  # a broken probe is a failing probe, not a 500 page
            log.exception("%s probe raised", name)
            ok, reason = False, f"{name} probe raised {type(err).__name__}: {err}"
        if ok:
            return web.Response(text="ok\n")
        return web.Response(status=500, text=f"{reason or 'not ' + name}\n")

    return handle


async def start_http(
    port: int,
    metrics: Metrics,
    liveness: Probe,
    readiness: Probe,
    host: str = "0.0.0.0",  # probes and scrapes come from outside the Pod
) -> HttpServer:
    """Serve /metrics, /healthz (liveness) and /readyz (readiness) until `stop()`."""

    async def serve_metrics(_: web.Request) -> web.StreamResponse:
        return web.Response(
            body=generate_latest(metrics.registry),
            headers={"Content-Type": METRICS_CONTENT_TYPE},
        )

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/healthz", _probe_handler("liveness", liveness))
    app.router.add_get("/readyz", _probe_handler("readiness", readiness))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("serving /metrics, /healthz and /readyz on %s:%d", host, bound)
    return HttpServer(runner, int(bound))
