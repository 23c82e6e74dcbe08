"""The kron ui server's handlers, through HTTP, against an in-memory API server."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from ui_support import MemoryApi, task_obj

from kron.cli.actions import backfill_action, trigger_action
from kron.k8s.api import ApiError
from kron.ui.feeds import Feeds
from kron.ui.security import AuthMode, Gate
from kron.ui.server import UiSettings, build_app

NOW = 1_796_000_000.0  # 2026-11-30T?? UTC, fixed


class Served:
    def __init__(self, api: MemoryApi, gate: Gate, client: TestClient[Any, Any]) -> None:
        self.api = api
        self.gate = gate
        self.client = client

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.client.port}"

    async def login(self) -> None:
        response = await self.client.get(f"/?key={self.gate.launch_key}", allow_redirects=False)
        assert response.status == 303

    async def page(self, path: str) -> tuple[int, str]:
        response = await self.client.get(path)
        return response.status, await response.text()

    async def post(self, path: str, form: dict[str, str], **headers: str) -> ClientResponse:
        sent = {"Origin": self.origin, **headers}
        return await self.client.post(path, data=form, headers=sent, allow_redirects=False)


Start = Callable[..., Any]


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    running: list[TestClient[Any, Any]] = []

    async def start(
        api: MemoryApi | None = None, *, mode: AuthMode = AuthMode.KUBECONFIG, login: bool = True
    ) -> Served:
        api = api or MemoryApi()
        gate = Gate(mode, api)  # type: ignore[arg-type]
        settings = UiSettings(
            default_namespace="team", clock=lambda: NOW, heartbeat=0.2, debounce=0
        )
        app = build_app(gate, Feeds(linger=0.05), settings)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        running.append(client)
        if mode is AuthMode.KUBECONFIG:
            gate.allow_loopback_port(client.port)
        served = Served(api, gate, client)
        if login and mode is AuthMode.KUBECONFIG:
            await served.login()
        return served

    yield start
    for client in running:
        await client.close()


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


# -- who may open the page -------------------------------------------------------------


async def test_without_the_launch_key_the_page_is_refused(serve: Start) -> None:
    served = await serve(login=False)
    status, body = await served.page("/ns/team")
    assert status == 401
    assert "Open the address kron ui printed" in body


async def test_the_launch_key_sets_a_session_cookie_and_leaves_the_address(serve: Start) -> None:
    served = await serve(login=False)
    response = await served.client.get(
        f"/ns/team?key={served.gate.launch_key}", allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/ns/team"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _ = await served.page("/ns/team")
    assert status == 200


async def test_a_wrong_launch_key_is_refused(serve: Start) -> None:
    served = await serve(login=False)
    status, _ = await served.page("/ns/team?key=guess")
    assert status == 401


async def test_a_foreign_host_name_is_refused_so_dns_rebinding_gets_nothing(serve: Start) -> None:
    served = await serve()
    response = await served.client.get("/ns/team", headers={"Host": "evil.example"})
    assert response.status == 421


async def test_pages_forbid_framing_and_foreign_scripts(serve: Start) -> None:
    served = await serve()
    response = await served.client.get("/ns/team")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_behind_a_proxy_each_request_needs_and_forwards_its_own_token(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api, mode=AuthMode.BEARER)
    status, body = await served.page("/ns/team")
    assert status == 401 and "No credentials" in body
    response = await served.client.get("/ns/team", headers={"Authorization": "Bearer abc.def"})
    assert response.status == 200
    assert {"Authorization": "Bearer abc.def"} in api.headers
    forwarded = await served.client.get("/ns/team", headers={"X-Forwarded-Access-Token": "xyz"})
    assert forwarded.status == 200
    assert {"Authorization": "Bearer xyz"} in api.headers


# -- pages -----------------------------------------------------------------------------


async def test_the_list_shows_schedule_in_words_and_cron_zone_and_state(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "30 2 * * 1-5", timeZone="Europe/Berlin"))
    broken = task_obj("broken", "0 3 * * *")
    broken["spec"]["schedule"] = "61 * * * *"  # the API server would refuse it; hostile input
    api.put(broken)
    served = await serve(api)
    status, body = await served.page("/ns/team")
    assert status == 200
    assert "at 02:30 on weekdays" in body and "30 2 * * 1-5" in body
    assert "Europe/Berlin" in body
    assert 'data-name="broken"' in body and "Invalid" in body


async def test_an_unknown_task_is_a_404_page(serve: Start) -> None:
    served = await serve()
    status, body = await served.page("/ns/team/tasks/missing")
    assert status == 404 and "not found" in body


async def test_a_refused_list_shows_the_api_servers_reason(serve: Start) -> None:
    api = MemoryApi()
    api.refuse_list = ApiError(403, "Forbidden", 'User "bob" cannot list resource "scheduledtasks"')
    served = await serve(api)
    status, body = await served.page("/ns/team")
    assert status == 403
    assert "forbidden: User &#34;bob&#34; cannot list" in body


# -- actions ---------------------------------------------------------------------------


async def test_run_now_confirms_then_writes_exactly_what_kron_trigger_writes(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    before = await api.get_task("team", "nightly")
    status, page = await served.page("/ns/team/tasks/nightly/run-now")
    assert status == 200 and not api.patches  # confirming writes nothing
    token, csrf = hidden(page, "token"), hidden(page, "csrf")
    expected = trigger_action(before, "nightly", token, force=False)
    assert expected.run is not None and expected.run in page

    response = await served.post(
        "/ns/team/tasks/nightly/run-now", {"csrf": csrf, "token": token, "force": ""}
    )

    assert response.status == 303
    assert api.patches == [("team", "nightly", expected.patch)]
    status, task_page = await served.page(response.headers["Location"])
    assert f"run: {expected.run}" in task_page


async def test_a_post_from_elsewhere_or_without_the_form_token_writes_nothing(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, page = await served.page("/ns/team/tasks/nightly/run-now")
    form = {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")}
    path = "/ns/team/tasks/nightly/run-now"

    assert (await served.post(path, form, Origin="https://evil.example")).status == 403
    assert (await served.post(path, form, **{"Sec-Fetch-Site": "cross-site"})).status == 403
    assert (await served.post(path, {**form, "csrf": "forged"})).status == 403
    no_origin = await served.client.post(path, data=form, allow_redirects=False)
    assert no_origin.status == 403
    assert not api.patches


async def test_a_user_without_patch_rights_sees_why_and_the_api_server_refuses(
    serve: Start,
) -> None:
    api = MemoryApi(may_patch=False, user="bob")
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, task_page = await served.page("/ns/team/tasks/nightly")
    assert "your rights do not include patch" in task_page
    assert 'aria-disabled="true"' in task_page

    _, page = await served.page("/ns/team/tasks/nightly/run-now")
    response = await served.post(
        "/ns/team/tasks/nightly/run-now",
        {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")},
    )
    body = await response.text()
    assert response.status == 403
    assert "Refused by the API server: forbidden:" in body
    assert "User &#34;bob&#34; cannot patch resource" in body


async def test_suspend_then_resume(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, page = await served.page("/ns/team/tasks/nightly/suspend")
    response = await served.post("/ns/team/tasks/nightly/suspend", {"csrf": hidden(page, "csrf")})
    assert response.status == 303
    assert api.patches[-1][2] == {"spec": {"suspend": True}}
    _, task_page = await served.page("/ns/team/tasks/nightly")
    assert 'id="act-resume"' in task_page and 'id="act-suspend"' not in task_page

    _, page = await served.page("/ns/team/tasks/nightly/resume")
    token = hidden(page, "token")
    await served.post(
        "/ns/team/tasks/nightly/resume", {"csrf": hidden(page, "csrf"), "token": token}
    )
    assert api.patches[-1][2] == {
        "spec": {"suspend": False},
        "metadata": {"annotations": {"kron.dev/resume": token}},
    }


async def test_backfill_reads_wall_times_in_the_tasks_zone_and_counts_ticks(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "0 3 * * *", timeZone="Europe/Berlin"))
    served = await serve(api)
    status, form_page = await served.page("/ns/team/tasks/nightly/backfill")
    assert status == 200 and 'type="datetime-local"' in form_page

    query = "from=2026-11-01T00:00&to=2026-11-03T00:00"
    status, page = await served.page(f"/ns/team/tasks/nightly/backfill?{query}")
    assert status == 200
    assert "covers 2 ticks" in page

    berlin = ZoneInfo("Europe/Berlin")
    expected = backfill_action(
        await api.get_task("team", "nightly"),
        "nightly",
        datetime(2026, 11, 1, tzinfo=berlin),
        datetime(2026, 11, 3, tzinfo=berlin),
        NOW,
    )
    response = await served.post(
        "/ns/team/tasks/nightly/backfill",
        {"csrf": hidden(page, "csrf"), "from": "2026-11-01T00:00", "to": "2026-11-03T00:00"},
    )
    assert response.status == 303
    assert api.patches == [("team", "nightly", expected.patch)]


async def test_a_wall_time_the_clocks_skip_is_refused_with_the_reason(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "0 3 * * *", timeZone="Europe/Berlin"))
    served = await serve(api)
    query = "from=2027-03-28T02:30&to=2027-03-30T00:00"  # 02:30 does not exist that night
    status, page = await served.page(f"/ns/team/tasks/nightly/backfill?{query}")
    assert status == 409
    assert "does not exist in Europe/Berlin" in page


# -- live ------------------------------------------------------------------------------


async def next_update(response: ClientResponse) -> dict[str, Any]:
    event = None
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode()
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event == "update":
            return dict(json.loads(line[6:]))


async def test_the_stream_pushes_the_new_row_when_a_task_appears(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    stream = await served.client.get("/stream/ns/team?view=list")
    assert stream.headers["Content-Type"] == "text/event-stream"
    first = await next_update(stream)
    assert 'data-name="nightly"' in first["regions"]["rows"]

    api.put(task_obj("late", "*/5 * * * *"))

    update = await next_update(stream)
    while 'data-name="late"' not in update["regions"]["rows"]:
        update = await next_update(stream)
    assert "every 5 minutes" in update["regions"]["rows"]
    stream.close()


async def test_streams_share_one_watch_that_stops_when_the_last_one_closes(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    streams = [await served.client.get("/stream/ns/team?view=list") for _ in range(3)]
    for stream in streams:
        await next_update(stream)
    assert api.watch_calls.count("/apis/kron.dev/v1alpha1/namespaces/team/scheduledtasks") == 1
    health = await (await served.client.get("/healthz")).json()
    assert (health["feeds"], health["listeners"]) == (1, 3)

    for stream in streams:
        stream.close()

    for _ in range(200):
        if api.open_watches == 0:
            break
        await asyncio.sleep(0.05)
    assert api.open_watches == 0
    assert (await (await served.client.get("/healthz")).json())["feeds"] == 0


async def test_the_task_stream_says_when_the_task_is_deleted(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    stream = await served.client.get("/stream/ns/team?view=task&task=nightly")
    first = await next_update(stream)
    assert set(first["regions"]) == {
        "task-summary", "task-actions", "task-upcoming", "task-history", "task-events"
    }  # fmt: skip
    api.delete("team", "nightly")
    update = await next_update(stream)
    assert update["gone"] == "scheduledtask nightly was deleted"
    stream.close()


# -- a run's page ----------------------------------------------------------------------


async def test_a_runs_page_shows_the_job_and_its_pods_or_says_it_is_gone(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    api.objects["/apis/batch/v1/namespaces/team/jobs/nightly-1796000000"] = {
        "metadata": {
            "name": "nightly-1796000000",
            "namespace": "team",
            "labels": {"kron.dev/task": "nightly"},
            "annotations": {"kron.dev/trigger": "schedule", "kron.dev/attempt": "0"},
        },
        "status": {
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        },
    }
    api.objects["/api/v1/namespaces/team/pods/nightly-1796000000-x7"] = {
        "metadata": {"name": "nightly-1796000000-x7", "labels": {"job-name": "nightly-1796000000"}},
        "spec": {"nodeName": "node-1"},
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {"name": "main", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}
            ],
        },
    }
    served = await serve(api)
    status, page = await served.page("/ns/team/runs/job/nightly-1796000000")
    assert status == 200
    assert "BackoffLimitExceeded" in page and "nightly-1796000000-x7" in page
    assert "main: terminated, exit code 3 (Error)" in page
    assert 'href="/ns/team/tasks/nightly"' in page

    status, page = await served.page("/ns/team/runs/job/nightly-1")
    assert status == 404 and "history limits" in page
