"""kron ui served over real HTTP (aiohttp's test server) against a `MemoryApi`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from ui_support import MemoryApi

from kron.ui.security import Gate

NOW = 1_796_000_000.0  # 2026-11-30T?? UTC, fixed
Start = Callable[..., Any]  # the `serve` fixture (conftest.py)


class Served:
    def __init__(self, api: MemoryApi, gate: Gate, client: TestClient[Any, Any]) -> None:
        self.api = api
        self.gate = gate
        self.client = client

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.client.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    async def login(self) -> None:
        response = await self.client.get(f"/?key={self.gate.launch_key}", allow_redirects=False)
        assert response.status == 303

    async def page(self, path: str, **headers: str) -> tuple[int, str]:
        response = await self.client.get(path, headers=headers)
        return response.status, await response.text()

    async def post(self, path: str, form: dict[str, str], **headers: str) -> ClientResponse:
        sent = {"Origin": self.origin, **headers}
        return await self.client.post(path, data=form, headers=sent, allow_redirects=False)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def next_update(response: ClientResponse) -> dict[str, Any]:
    event = None
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode()
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event == "update":
            return dict(json.loads(line[6:]))
