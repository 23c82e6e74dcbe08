"""The `serve` fixture: kron ui on a free port of 127.0.0.1, as `kron ui` would set it up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from ui_http import NOW, Served, Start
from ui_support import MemoryApi

from kron.ui.feeds import Feeds
from kron.ui.peers import PeerCheck
from kron.ui.security import AuthMode, Gate, PeerChecker
from kron.ui.server import UiSettings, build_app


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    running: list[TestClient[Any, Any]] = []

    async def start(
        api: MemoryApi | None = None,
        *,
        mode: AuthMode = AuthMode.KUBECONFIG,
        login: bool = True,
        public_origin: str | None = None,
        peers: PeerChecker | None = None,
    ) -> Served:
        api = api or MemoryApi()
        # As `kron ui` on Linux: the real peer check (this process is its own browser).
        peers = peers or PeerCheck()
        gate = Gate(mode, api, public_origin=public_origin, peers=peers)  # type: ignore[arg-type]
        settings = UiSettings(
            default_namespace="team", clock=lambda: NOW, heartbeat=0.2, debounce=0
        )
        app = build_app(gate, Feeds(linger=0.05), settings)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        running.append(client)
        served = Served(api, gate, client)
        if mode is AuthMode.KUBECONFIG:
            gate.pin_host(served.host)
        if login and mode is AuthMode.KUBECONFIG:
            await served.login()
        return served

    yield start
    for client in running:
        await client.close()
