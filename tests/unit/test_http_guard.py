"""What a hostile client of the metrics/probe port gets: malformed requests answered 400
and logged in one line within a budget, half-sent requests and idle connections closed,
a crowd of connections unable to lock out a probe, a slow reader cut off.

Real sockets against a real server on port 0. Limits are shrunk per test so each case
happens within the test; outcomes are counted, never timed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.http_exceptions import BadStatusLine

from kron.http import HttpLimits, HttpServer, start_http
from kron.http.guard import PeerLog, TokenBucket, one_line
from kron.logs import Throttled
from kron.metrics import Metrics
from support.http import GUARD, Big, Gate, fetch, open_slow_reader, raw, read_to_end
from support.wait import async_wait_until

LONG = 3600.0  # a limit that does not come into play during a test


def rejected(metrics: Metrics, reason: str) -> float:
    return metrics.registry.get_sample_value("kron_http_rejected_total", {"reason": reason}) or 0


def ok() -> tuple[bool, str]:
    return True, ""


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


async def serve(metrics: Metrics, **limits: float) -> HttpServer:
    return await start_http(0, metrics, ok, ok, host="127.0.0.1", limits=HttpLimits(**limits))


@pytest.fixture
async def server(metrics: Metrics) -> AsyncIterator[HttpServer]:
    started = await serve(metrics)
    yield started
    await started.stop()


MALFORMED = {
    "tls-client-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x01\r\n\r\n",
    "control-bytes-in-target": b"GET /\x00\x1b[31mred HTTP/1.1\r\nHost: x\r\n\r\n",
    "forged-log-line": b"GET /\r\nWARNING kron: all good HTTP/1.1\r\n\r\n",
    "request-line-too-long": b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n",
    "header-too-long": b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    "too-many-headers": b"GET /metrics HTTP/1.1\r\n" + b"X-h: v\r\n" * 1000 + b"\r\n",
    "bad-after-good": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBAD\x00LINE\r\n\r\n",
    "no-host": b"GET /healthz HTTP/1.1\r\n\r\n",
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_http_gets_400_and_one_log_line(
    server: HttpServer, metrics: Metrics, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await raw(server, payload)
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.0 400 Bad Request", b"HTTP/1.1 400 Bad Request")
    records = [r for r in caplog.records if r.name.startswith(("kron.http", "aiohttp"))]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    message = record.getMessage()
    assert record.name == "kron.http.server"
    assert record.levelname == "WARNING"
    assert record.exc_info is None and record.exc_text is None
    assert message.startswith("malformed HTTP from 127.0.0.1: ")
    assert message.isprintable(), message  # no newline, no terminal escape from the peer
    assert len(message) <= 400
    assert rejected(metrics, "malformed") == 1
    # ...and the server still answers.
    assert (await fetch(server, "/healthz"))[0] == 200


async def test_a_flood_of_bad_requests_logs_within_the_budget_and_counts_all(
    metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await serve(metrics, log_burst=3, log_per_seconds=LONG)
    try:
        answers = await asyncio.gather(*(raw(server, b"NOT HTTP\r\n\r\n") for _ in range(40)))
    finally:
        await server.stop()
    assert all(b" 400 " in answer.split(b"\r\n", 1)[0] for answer in answers)
    records = [r for r in caplog.records if r.name.startswith(("kron.http", "aiohttp"))]
    assert len([r for r in records if "malformed" in r.getMessage()]) == 3
    assert all(r.exc_info is None for r in records)
    assert rejected(metrics, "malformed") == 40


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_next_line_after_a_quiet_spell_says_how_many_were_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    counted: list[str] = []
    logger = logging.getLogger("kron.http.server")
    peer = PeerLog(logger, Throttled(logger, burst=2, per=20.0, clock=clock), counted.append)
    caplog.set_level(logging.DEBUG, logger="kron.http.server")
    error = BadStatusLine("\x16\x03\x01\n\n  b'\\x16'\n    ^")
    for _ in range(7):
        peer.debug("Error handling request from %s", "10.0.0.9", exc_info=error)
    clock.now += 10.0
    peer.exception("Error handling request from %s", "10.0.0.9", exc_info=error)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert messages[0] == messages[1]
    assert messages[2] == messages[0] + " (5 similar lines suppressed)"
    assert messages[0].startswith("malformed HTTP from 10.0.0.9: BadStatusLine: ")
    assert "\n" not in messages[0] and "\\x16" in messages[0]
    assert counted == ["malformed"] * 8


def test_nothing_is_logged_when_warnings_are_off_but_everything_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("kron.http.quiet-test")
    logger.setLevel(logging.ERROR)
    counted: list[str] = []
    peer = PeerLog(logger, Throttled(logger), counted.append)
    peer.exception("Unhandled exception", exc_info=RuntimeError("boom"))
    assert not [r for r in caplog.records if r.name == "kron.http.quiet-test"]
    assert counted == ["error"]


def test_the_scrape_bucket_refills_one_token_per_period() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 5.0, clock)
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 2.5
    assert not bucket.take()
    clock.now += 2.5
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 3600
    assert [bucket.take() for _ in range(3)] == [True, True, False]  # never above burst


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("plain", "plain"),
        ("two\nlines\r\n and  tabs\t", "two lines and tabs"),
        ("\x1b[31mred\x00", "\\x1b[31mred\\x00"),
        ("x" * 1000, "x" * 297 + "..."),
    ],
)
def test_one_line_escapes_and_truncates(text: str, line: str) -> None:
    assert one_line(text) == line


# -- connections: lifetime, cap, slow readers ---------------------------------------------


@pytest.mark.parametrize(
    "payload", [b"", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-a: "], ids=["silent", "half-sent"]
)
async def test_a_connection_that_never_completes_a_request_is_closed(
    metrics: Metrics, payload: bytes
) -> None:
    # aiohttp's own keep-alive timer is out of play (LONG): the lifetime closes it.
    server = await serve(metrics, connection_seconds=0.2, keepalive_seconds=LONG)
    try:
        assert await raw(server, payload) == b""  # closed without an answer
        await async_wait_until(
            lambda: server.open_connections == 0, timeout=GUARD, message="connection closed"
        )
    finally:
        await server.stop()


async def test_a_connection_past_its_lifetime_gets_its_answer_then_is_closed(
    metrics: Metrics,
) -> None:
    gate = Gate(asyncio.get_running_loop())
    metrics.registry.register(gate)
    server = await serve(metrics, connection_seconds=0.2, keepalive_seconds=LONG)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(gate.entered.wait(), GUARD)
        await async_wait_until(
            lambda: server.open_connections == 0, timeout=GUARD, message="lifetime over"
        )
        assert gate.waiting  # the lifetime ended while the answer was being prepared
        gate.open()
        answer = await asyncio.wait_for(read_to_end(reader), GUARD)
        writer.close()
    finally:
        gate.open()
        await server.stop()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.startswith(b"Content-Length")
    )
    assert len(body) == length
    assert b"gate_open 1.0" in body


async def test_a_crowd_of_idle_connections_cannot_lock_out_a_probe(metrics: Metrics) -> None:
    server = await serve(
        metrics, max_connections=3, connection_seconds=LONG, keepalive_seconds=LONG
    )
    crowd = []
    try:
        for _ in range(3):  # one after the other: the first is the oldest
            crowd.append(await asyncio.open_connection("127.0.0.1", server.port))
        await async_wait_until(
            lambda: server.open_connections == 3, timeout=GUARD, message="all accepted"
        )
        assert (await fetch(server, "/healthz"))[0] == 200
        oldest_reader, _ = crowd[0]
        assert await asyncio.wait_for(read_to_end(oldest_reader), GUARD) == b""
    finally:
        for _, writer in crowd:
            writer.close()
        await server.stop()
    assert rejected(metrics, "connection_limit") == 1


async def test_a_scraper_that_does_not_read_is_cut_off(metrics: Metrics) -> None:
    size = 8 * 1024 * 1024  # past what the kernel buffers on both ends can hold (4 MiB)
    metrics.registry.register(Big(size))
    server = await serve(metrics, send_seconds=0.5)
    try:
        reader, writer = await open_slow_reader(server)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n")
        await writer.drain()
        await async_wait_until(
            lambda: rejected(metrics, "too_slow") == 1, timeout=GUARD, message="cut off"
        )
        got = await asyncio.wait_for(read_to_end(reader), GUARD)
        writer.close()
        # The port still serves everyone else.
        assert (await fetch(server, "/healthz"))[0] == 200
    finally:
        await server.stop()
    assert got.startswith(b"HTTP/1.1 200 OK")
    assert len(got) < size
