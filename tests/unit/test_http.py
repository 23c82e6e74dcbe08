"""kron.http answers probes and scrapes the way Kubernetes and Prometheus expect.

The server binds a real local port (port 0), and a real HTTP client asks it; no cluster.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kron.http import HttpServer, start_http
from kron.metrics import Metrics


class Probe:
    """A probe whose answer the test changes between requests."""

    def __init__(self, ok: bool = True, reason: str = "") -> None:
        self.ok = ok
        self.reason = reason
        self.calls = 0

    def __call__(self) -> tuple[bool, str]:
        self.calls += 1
        return self.ok, self.reason


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def live() -> Probe:
    return Probe()


@pytest.fixture
def ready() -> Probe:
    return Probe()


@pytest.fixture
async def server(metrics: Metrics, live: Probe, ready: Probe) -> AsyncIterator[HttpServer]:
    started = await start_http(0, metrics, live, ready, host="127.0.0.1")
    yield started
    await started.stop()


async def fetch(server: HttpServer, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_port_zero_binds_a_free_port_that_answers(server: HttpServer) -> None:
    assert server.port > 0
    status, _, _ = await fetch(server, "/healthz")
    assert status == 200


async def test_metrics_are_prometheus_text_from_the_private_registry(
    server: HttpServer, metrics: Metrics
) -> None:
    metrics.leader.set(1)
    metrics.leader_transitions.inc()
    status, content_type, body = await fetch(server, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert "version=0.0.4" in content_type
    assert "# TYPE kron_leader gauge" in body
    assert "kron_leader 1.0" in body.splitlines()
    assert "kron_leader_transitions_total 1.0" in body.splitlines()
    # The private registry only: nothing from the process-global default one.
    assert "python_gc_objects_collected_total" not in body


async def test_metrics_reflect_changes_between_scrapes(
    server: HttpServer, metrics: Metrics
) -> None:
    _, _, before = await fetch(server, "/metrics")
    metrics.synced.set(1)
    _, _, after = await fetch(server, "/metrics")
    assert "kron_synced 0.0" in before.splitlines()
    assert "kron_synced 1.0" in after.splitlines()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_a_passing_probe_answers_200_ok(server: HttpServer, path: str) -> None:
    status, content_type, body = await fetch(server, path)
    assert (status, body.strip()) == (200, "ok")
    assert content_type.startswith("text/plain")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_a_failing_probe_answers_500_with_its_reason(
    server: HttpServer, live: Probe, ready: Probe, path: str
) -> None:
    probe = live if path == "/healthz" else ready
    other = ready if probe is live else live
    probe.ok, probe.reason = False, "dispatcher stalled for 42s"
    status, _, body = await fetch(server, path)
    assert status == 500
    assert body.strip() == "dispatcher stalled for 42s"
    # Each endpoint asks its own probe only.
    other_path = "/readyz" if path == "/healthz" else "/healthz"
    assert (await fetch(server, other_path))[0] == 200
    assert other.calls == 1


async def test_probes_are_asked_on_every_request(server: HttpServer, ready: Probe) -> None:
    ready.ok, ready.reason = False, "index not loaded yet"
    assert (await fetch(server, "/readyz"))[:1] == (500,)
    ready.ok = True
    assert (await fetch(server, "/readyz"))[0] == 200
    assert ready.calls == 2


async def test_a_probe_that_raises_is_a_failing_probe(server: HttpServer, live: Probe) -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("engine gone")

    other = await start_http(0, Metrics(), broken, live, host="127.0.0.1")
    try:
        status, _, body = await fetch(other, "/healthz")
    finally:
        await other.stop()
    assert status == 500
    assert "engine gone" in body


async def test_an_unknown_path_is_404(server: HttpServer) -> None:
    assert (await fetch(server, "/nope"))[0] == 404


async def test_stop_frees_the_port(metrics: Metrics, live: Probe, ready: Probe) -> None:
    started = await start_http(0, metrics, live, ready, host="127.0.0.1")
    port = started.port
    await started.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(started, "/healthz")
    # Nothing listens there any more: the port can be bound again.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


async def test_an_explicit_port_is_the_one_bound(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = await start_http(port, metrics, live, ready, host="127.0.0.1")
    try:
        assert started.port == port
        assert (await fetch(started, "/healthz"))[0] == 200
    finally:
        await started.stop()
