"""kron.http answers probes and scrapes the way Kubernetes and Prometheus expect, and no
client can make it hold the event loop.

The server binds a real local port (port 0), and real clients ask it; no cluster.
Nothing here asserts on durations: what happened is counted (renderings, answers by
status, refusals by reason) and the order of events is observed from the loop.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import socket
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kron.http import HttpLimits, HttpServer, start_http
from kron.http.scrape import RENDER_SWITCH_INTERVAL, MetricsPage, accepts_gzip
from kron.metrics import Metrics
from support.http import GUARD, Broken, Gate, fetch
from support.wait import async_wait_until


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


async def test_port_zero_binds_a_free_port_that_answers(server: HttpServer) -> None:
    assert server.port > 0
    status, _, _ = await fetch(server, "/healthz")
    assert status == 200


async def test_metrics_are_prometheus_text_from_the_private_registry(
    server: HttpServer, metrics: Metrics
) -> None:
    metrics.leader.set(1)
    metrics.leader_transitions.inc()
    status, headers, body = await fetch(server, "/metrics")
    content_type = headers["Content-Type"]
    assert status == 200
    assert content_type.startswith("text/plain")
    assert "version=0.0.4" in content_type
    assert "# TYPE kron_leader gauge" in body
    assert "kron_leader 1.0" in body.splitlines()
    assert "kron_leader_transitions_total 1.0" in body.splitlines()
    # The private registry only: nothing from the process-global default one.
    assert "python_gc_objects_collected_total" not in body


async def test_metrics_reflect_changes_between_scrapes_once_the_cache_is_past(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    server = await start_http(
        0, metrics, live, ready, host="127.0.0.1", limits=HttpLimits(metrics_cache_seconds=0)
    )
    try:
        _, _, before = await fetch(server, "/metrics")
        metrics.synced.set(1)
        _, _, after = await fetch(server, "/metrics")
    finally:
        await server.stop()
    assert server.renders == 2
    assert "kron_synced 0.0" in before.splitlines()
    assert "kron_synced 1.0" in after.splitlines()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_a_passing_probe_answers_200_ok(server: HttpServer, path: str) -> None:
    status, headers, body = await fetch(server, path)
    assert (status, body.strip()) == (200, "ok")
    assert headers["Content-Type"].startswith("text/plain")


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


# -- every address of the Pod, IPv4 and IPv6 (the operator's case: host None) ----------


def ipv6_loopback() -> bool:
    """Whether this host can serve IPv6 on ::1 at all (the kernel has IPv6, lo has ::1)."""
    if not socket.has_dualstack_ipv6():
        return False
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


async def test_every_address_answers_over_ipv4_and_ipv6_on_one_port(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    if not ipv6_loopback():
        pytest.skip("this host has no IPv6 (no dual-stack socket or no ::1)")
    server = await start_http(0, metrics, live, ready)
    try:
        assert server.port > 0
        for host in ("127.0.0.1", "[::1]"):
            for path in ("/healthz", "/readyz", "/metrics"):
                status, _, _ = await fetch(server, path, host=host)
                assert status == 200, (host, path)
    finally:
        await server.stop()
    # Both families were the one socket, and stop() closed it.
    for host in ("127.0.0.1", "[::1]"):
        with pytest.raises(aiohttp.ClientConnectionError):
            await fetch(server, "/healthz", host=host)


async def test_a_kernel_without_ipv6_gets_every_ipv4_address(
    metrics: Metrics, live: Probe, ready: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel booted with ipv6.disable=1 cannot make an AF_INET6 socket, so
    socket.has_dualstack_ipv6() is False there; here that answer is the one changed."""
    monkeypatch.setattr(socket, "has_dualstack_ipv6", lambda: False)
    server = await start_http(0, metrics, live, ready)
    try:
        assert (await fetch(server, "/healthz"))[0] == 200
        if ipv6_loopback():
            with pytest.raises(aiohttp.ClientConnectionError):
                await fetch(server, "/healthz", host="[::1]")
    finally:
        await server.stop()


async def test_a_busy_port_is_an_error_and_not_a_quiet_ipv4_only_listen(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    """Another listener on the port's IPv6 side only: 0.0.0.0 would still bind, and serve
    half the cluster; the operator must refuse to start instead."""
    if not ipv6_loopback():
        pytest.skip("this host has no IPv6 (no dual-stack socket or no ::1)")
    with socket.create_server(("::", 0), family=socket.AF_INET6) as taken:  # IPv6 only
        assert taken.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as raised:
            await start_http(port, metrics, live, ready)
    assert raised.value.errno == errno.EADDRINUSE


# -- /metrics off the event loop, shared, cached, bounded ---------------------------------


def rejected(metrics: Metrics, reason: str) -> float:
    return metrics.registry.get_sample_value("kron_http_rejected_total", {"reason": reason}) or 0


def per_task_metrics(tasks: int) -> Metrics:
    metrics = Metrics(per_task=True)
    for i in range(tasks):
        metrics.fired(f"team-{i % 7}", f"task-{i}", "schedule", 0.01, 1.7e9)
    return metrics


async def test_concurrent_scrapes_share_one_rendering_while_the_loop_stays_free(
    live: Probe, ready: Probe
) -> None:
    metrics = per_task_metrics(500)
    gate = Gate(asyncio.get_running_loop())
    metrics.registry.register(gate)
    scrapers = 12
    limits = HttpLimits(
        metrics_cache_seconds=3600, scrapes_in_flight=scrapers, scrape_burst=scrapers + 1
    )
    server = await start_http(0, metrics, live, ready, host="127.0.0.1", limits=limits)
    ticks = 0

    async def ticker() -> None:  # stands for the dispatcher and the Lease renewal
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        scrapes = [asyncio.create_task(fetch(server, "/metrics")) for _ in range(scrapers)]
        await asyncio.wait_for(gate.entered.wait(), GUARD)
        # The rendering is held in its thread; meanwhile the loop runs other work and
        # the probes answer.
        ticks_then = ticks
        for path in ("/healthz", "/readyz"):
            assert (await fetch(server, path))[0] == 200
        await async_wait_until(lambda: ticks > ticks_then + 10, timeout=GUARD, message="ticks")
        assert gate.waiting, "the rendering was not held while the loop ran: it ran on the loop"
        assert not any(scrape.done() for scrape in scrapes)
        gate.open()
        answers = await asyncio.wait_for(asyncio.gather(*scrapes), GUARD)
        # A scrape after the rendering is served from the cache.
        answers.append(await fetch(server, "/metrics"))
    finally:
        ticking.cancel()
        gate.open()
        await server.stop()
    assert {status for status, _, _ in answers} == {200}
    assert len({body for _, _, body in answers}) == 1
    assert "gate_open 1.0" in answers[0][2].splitlines()
    assert 'kron_task_fires_total{namespace="team-3",task="task-3"} 1.0' in answers[0][2]
    assert (gate.collections, server.renders) == (1, 1)


async def test_a_rendering_runs_with_a_short_switch_interval_then_restores_it(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    before = sys.getswitchinterval()
    gate = Gate(asyncio.get_running_loop())
    gate.open()
    metrics.registry.register(gate)
    server = await start_http(0, metrics, live, ready, host="127.0.0.1")
    try:
        assert (await fetch(server, "/metrics"))[0] == 200
    finally:
        await server.stop()
    assert gate.switch_interval == min(before, RENDER_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before


async def test_scrapes_beyond_those_in_flight_are_refused_at_once_with_503(
    metrics: Metrics, live: Probe, ready: Probe
) -> None:
    gate = Gate(asyncio.get_running_loop())
    metrics.registry.register(gate)
    limits = HttpLimits(metrics_cache_seconds=3600, scrapes_in_flight=2, scrape_burst=100)
    server = await start_http(0, metrics, live, ready, host="127.0.0.1", limits=limits)
    try:
        scrapes = [asyncio.create_task(fetch(server, "/metrics")) for _ in range(6)]
        await asyncio.wait_for(gate.entered.wait(), GUARD)
        await async_wait_until(
            lambda: sum(s.done() for s in scrapes) == 4, timeout=GUARD, message="4 refused"
        )
        refused = [s.result() for s in scrapes if s.done()]
        assert gate.waiting  # refused while the rendering was still held
        gate.open()
        served = await asyncio.wait_for(
            asyncio.gather(*(s for s in scrapes if not s.done())), GUARD
        )
    finally:
        gate.open()
        await server.stop()
    assert [status for status, _, _ in refused] == [503] * 4
    assert all(headers["Retry-After"] == "1" for _, headers, _ in refused)
    assert [status for status, _, _ in served] == [200, 200]
    assert rejected(metrics, "busy") == 4
    assert server.renders == 1


async def test_scrapes_over_the_rate_get_429(metrics: Metrics, live: Probe, ready: Probe) -> None:
    limits = HttpLimits(metrics_cache_seconds=3600, scrape_burst=3, scrapes_per_second=1e-6)
    server = await start_http(0, metrics, live, ready, host="127.0.0.1", limits=limits)
    try:
        statuses = [(await fetch(server, "/metrics"))[0] for _ in range(5)]
        probes = [(await fetch(server, "/healthz"))[0] for _ in range(5)]
    finally:
        await server.stop()
    assert statuses == [200, 200, 200, 429, 429]
    assert probes == [200] * 5  # probes are never rate-limited
    assert rejected(metrics, "rate_limited") == 2
    assert server.renders == 1


async def test_a_failing_rendering_answers_500_in_one_line_and_is_not_cached(
    metrics: Metrics, live: Probe, ready: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Broken()
    metrics.registry.register(broken)
    limits = HttpLimits(metrics_cache_seconds=3600)
    server = await start_http(0, metrics, live, ready, host="127.0.0.1", limits=limits)
    try:
        failed = await fetch(server, "/metrics")
        broken.broken = False
        fixed = await fetch(server, "/metrics")
    finally:
        await server.stop()
    assert failed[0] == 500
    assert fixed[0] == 200
    assert "broken 0.0" in fixed[2].splitlines()
    assert server.renders == 2
    assert rejected(metrics, "error") == 1
    lines = [r for r in caplog.records if "collector exploded" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None
    assert "\n" not in lines[0].getMessage()


async def test_gzip_is_served_to_clients_that_ask_for_it(
    server: HttpServer, metrics: Metrics
) -> None:
    url = f"http://127.0.0.1:{server.port}/metrics"
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            zipped = await response.read()
            zipped_headers = response.headers
        async with session.get(url, headers={"Accept-Encoding": "identity"}) as response:
            plain = await response.read()
            plain_headers = response.headers
    assert zipped_headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain_headers
    assert gzip.decompress(zipped) == plain
    assert int(zipped_headers["Content-Length"]) == len(zipped) < len(plain)
    assert zipped_headers["Vary"] == plain_headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("gzip", True),
        ("gzip, deflate", True),
        ("deflate, GZIP;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str, gzipped: bool) -> None:
    assert accepts_gzip(header) is gzipped


@pytest.mark.parametrize(("method", "path"), [("POST", "/metrics"), ("HEAD", "/healthz")])
async def test_only_get_is_answered(server: HttpServer, method: str, path: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        assert response.status == 405
        assert response.headers["Allow"] == "GET"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_page_is_reused_for_cache_seconds_after_its_rendering() -> None:
    metrics = Metrics()
    clock = FakeClock()
    page = MetricsPage(metrics.registry, cache_seconds=1.0, clock=clock)
    try:
        first = await page.get()
        metrics.synced.set(1)
        clock.now += 0.999
        cached = await page.get()
        clock.now += 0.001
        fresh = await page.get()
    finally:
        page.close()
    assert cached is first
    assert b"kron_synced 0.0" in first.text
    assert b"kron_synced 1.0" in fresh.text
    assert gzip.decompress(fresh.gzipped) == fresh.text
    assert page.renders == 2


async def test_a_scraper_that_hangs_up_does_not_cancel_the_others_rendering() -> None:
    metrics = Metrics()
    gate = Gate(asyncio.get_running_loop())
    metrics.registry.register(gate)
    page = MetricsPage(metrics.registry, cache_seconds=3600)
    try:
        leaving = asyncio.create_task(page.get())
        staying = asyncio.create_task(page.get())
        await asyncio.wait_for(gate.entered.wait(), GUARD)
        leaving.cancel()
        gate.open()
        got = await asyncio.wait_for(staying, GUARD)
    finally:
        gate.open()
        page.close()
    assert leaving.cancelled()
    assert b"gate_open 1.0" in got.text
    assert page.renders == 1
