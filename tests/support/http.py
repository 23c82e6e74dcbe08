"""Clients and collectors for the tests of kron.http: real sockets, real registries."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import sys
import threading
from collections.abc import Iterator, Mapping

import aiohttp
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kron.http import HttpServer

GUARD = 30.0
"""Seconds after which a test that waits gives up and fails (never a pass condition)."""


async def fetch(
    server: HttpServer,
    path: str,
    headers: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
) -> tuple[int, dict[str, str], str]:
    """One GET on a fresh session, to `host` (an IPv6 address in brackets: "[::1]")."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{server.port}{path}", headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.text()


async def raw(server: HttpServer, payload: bytes) -> bytes:
    """Send `payload` on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(payload)
            await writer.drain()
        return await asyncio.wait_for(read_to_end(reader), GUARD)
    finally:
        writer.close()


async def read_to_end(reader: asyncio.StreamReader) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            data += chunk
    return data


async def open_slow_reader(
    server: HttpServer,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection whose receive window is as small as the kernel allows."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    return await asyncio.open_connection(sock=sock)


class Gate(Collector):
    """A collector that holds every rendering at its door until the test opens it.

    `waiting` is true while a rendering is held: seen true from the event loop, it
    proves the rendering runs elsewhere (a rendering on the loop would hold the loop
    itself). The hold is bounded so a server that renders on the loop fails the test
    rather than hanging it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, hold: float = 10.0) -> None:
        self._loop = loop
        self._hold = hold
        self._open = threading.Event()
        self.entered = asyncio.Event()
        self.waiting = False
        self.collections = 0
        self.switch_interval = 0.0

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("gate_open", "1 once the test let the rendering through.")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        self.collections += 1
        self.switch_interval = sys.getswitchinterval()
        self.waiting = True
        self._loop.call_soon_threadsafe(self.entered.set)
        self._open.wait(self._hold)
        self.waiting = False
        yield GaugeMetricFamily("gate_open", "1 once the test let the rendering through.", 1)

    def open(self) -> None:
        self._open.set()


class Broken(Collector):
    """A collector that raises while the test wants it to."""

    def __init__(self) -> None:
        self.broken = True

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("broken", "Raises while broken.")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.broken:
            raise RuntimeError("collector exploded\nwith a second line")
        yield GaugeMetricFamily("broken", "Raises while broken.", 0)


class Big(Collector):
    """A page of about `size` bytes that does not compress."""

    def __init__(self, size: int) -> None:
        rng = random.Random(size)
        chunk = 16_384
        self._values = [rng.randbytes(chunk // 2).hex() for _ in range(size // chunk)]

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("big", "A large page.", labels=["pad"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("big", "A large page.", labels=["pad"])
        for value in self._values:
            family.add_metric([value], 1)
        yield family
