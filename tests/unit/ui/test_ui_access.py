"""Who may open kron ui, through HTTP: the launch key and the session cookie (per host
and port, signed for its host), the exact Host, programs of other accounts, bearer
tokens, and form tokens per session and per person."""

from __future__ import annotations

import os

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import make_mocked_request
from ui_http import Start, hidden
from ui_support import MemoryApi, task_obj

from kron.ui.peers import PeerCheck
from kron.ui.security import AuthMode, Gate, Refused, cookie_name

RUN_NOW = "/ns/team/tasks/nightly/run-now"


def with_task() -> MemoryApi:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    return api


# -- the launch key and the session cookie ---------------------------------------------


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
    assert cookie.startswith(f"kron_ui_127-0-0-1_{served.client.port}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _ = await served.page("/ns/team")
    assert status == 200


async def test_a_wrong_launch_key_is_refused(serve: Start) -> None:
    served = await serve(login=False)
    status, _ = await served.page("/ns/team?key=guess")
    assert status == 401


def test_the_cookie_is_named_after_the_host_and_the_port() -> None:
    assert cookie_name("127.4.9.33:40817") == "kron_ui_127-4-9-33_40817"
    assert cookie_name("127.4.9.33:40818") != cookie_name("127.4.9.33:40817")
    assert cookie_name("[::1]:8080") == "kron_ui_1_8080"
    assert cookie_name("localhost:8080") == "kron_ui_localhost_8080"


async def test_two_servers_in_one_browser_keep_their_own_sessions(serve: Start) -> None:
    """Browsers keep cookies per host, not per port (so does aiohttp's jar): with one
    cookie name the second login would replace the first server's session."""
    first, second = await serve(login=False), await serve(login=False)
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        for served in (first, second):
            opened = await browser.get(f"{served.origin}/?key={served.gate.launch_key}")
            assert opened.status == 200, await opened.text()
        assert len(browser.cookie_jar) == 2
        for served in (first, second):
            again = await browser.get(f"{served.origin}/ns/team")
            assert again.status == 200, await again.text()


def test_a_session_is_signed_for_the_host_it_was_issued_for() -> None:
    api = MemoryApi()
    here, there = (Gate(AuthMode.KUBECONFIG, api, secret=b"s" * 32) for _ in range(2))  # type: ignore[arg-type]
    here.pin_host("127.0.0.1:8001")
    there.pin_host("127.0.0.2:8001")
    launch = make_mocked_request(
        "GET", f"/?key={here.launch_key}", headers={"Host": "127.0.0.1:8001"}
    )
    answer = here.launch(launch)
    assert isinstance(answer, web.Response)
    value = answer.cookies[here.cookie].value

    def ask(gate: Gate, host: str) -> web.Request:
        return make_mocked_request(
            "GET", "/ns/team", headers={"Host": host, "Cookie": f"{gate.cookie}={value}"}
        )

    assert here.identify(ask(here, "127.0.0.1:8001")).key == "local"
    # The same secret, the same cookie, another host: not a session of this one.
    with pytest.raises(Refused) as refused:
        there.identify(ask(there, "127.0.0.2:8001"))
    assert refused.value.status == 401
    forged = value.rsplit(".", 1)[0] + "." + "0" * 64
    with pytest.raises(Refused):
        here.identify(
            make_mocked_request(
                "GET", "/", headers={"Host": "127.0.0.1:8001", "Cookie": f"{here.cookie}={forged}"}
            )
        )


async def test_only_the_exact_printed_host_and_port_is_answered(serve: Start) -> None:
    served = await serve()
    port = served.client.port
    assert (await served.page("/ns/team"))[0] == 200
    others = ("evil.example", f"localhost:{port}", f"[::1]:{port}", "127.0.0.1")
    for host in (*others, f"127.0.0.1:{port + 1}"):
        status, body = await served.page("/ns/team", Host=host)
        assert status == 421, host
        assert f"answers only as 127.0.0.1:{port}" in body
    launch = await served.client.get(
        f"/?key={served.gate.launch_key}", headers={"Host": f"localhost:{port}"}
    )
    assert launch.status == 421 and "Set-Cookie" not in launch.headers


async def test_pages_forbid_framing_and_foreign_scripts(serve: Start) -> None:
    served = await serve()
    response = await served.client.get("/ns/team")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


# -- programs of other accounts ----------------------------------------------------------


async def test_a_stolen_cookie_replayed_from_another_account_gets_nothing(serve: Start) -> None:
    """The replay: a cookie leaked to another account's server on the same host (any
    port) is sent back with the right Host. The connection's owner gives it away."""
    owners = [os.geteuid()]
    served = await serve(with_task(), peers=PeerCheck(lambda peer, ours: owners[-1]))
    (cookie,) = served.client.session.cookie_jar
    stolen = {"Cookie": f"{cookie.key}={cookie.value}", "Host": served.host}

    async with ClientSession() as ours:  # our own program, on a new connection: served
        response = await ours.get(served.origin + RUN_NOW, headers=stolen)
        assert response.status == 200
        assert hidden(await response.text(), "csrf")

    owners.append(4242)
    async with ClientSession() as theirs:
        response = await theirs.get(served.origin + RUN_NOW, headers=stolen)
        body = await response.text()
        assert response.status == 403
        assert "another account on this machine (uid 4242)" in body
        assert 'name="csrf"' not in body
        for path in ("/static/app.js", "/healthz", f"/?key={served.gate.launch_key}"):
            assert (await theirs.get(served.origin + path)).status == 403, path
    assert not served.api.patches


async def test_root_counts_as_our_own_account_and_unknown_programs_are_refused(
    serve: Start,
) -> None:
    owners: list[int | None] = [0]
    served = await serve(login=False, peers=PeerCheck(lambda peer, ours: owners[-1]))
    async with ClientSession() as root:
        assert (await root.get(served.origin + "/healthz")).status == 200
    owners.append(None)
    async with ClientSession() as unknown:
        response = await unknown.get(served.origin + "/healthz")
        assert response.status == 403
        assert "cannot tell which account" in await response.text()


async def test_the_owner_is_looked_up_once_per_connection(serve: Start) -> None:
    asked: list[object] = []

    def lookup(peer: object, ours: object) -> int:
        asked.append(peer)
        return os.geteuid()

    served = await serve(peers=PeerCheck(lookup))
    for _ in range(3):
        assert (await served.page("/ns/team"))[0] == 200
    assert asked and len(asked) == len(set(asked)) < 4  # not once per request


async def test_the_real_peer_check_answers_this_accounts_own_connections(serve: Start) -> None:
    served = await serve()  # the fixture's gate reads /proc/net/tcp (Linux)
    assert isinstance(served.gate.peers, PeerCheck)
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as ours:
        response = await ours.get(f"{served.origin}/?key={served.gate.launch_key}")
        assert response.status == 200, await response.text()


# -- behind a proxy: each person's own token ----------------------------------------------


async def test_behind_a_proxy_each_request_needs_and_forwards_its_own_token(serve: Start) -> None:
    api = with_task()
    served = await serve(api, mode=AuthMode.BEARER)
    status, body = await served.page("/ns/team")
    assert status == 401 and "No credentials" in body
    assert api.calls == []

    status, _ = await served.page("/ns/team", Authorization="Bearer abc.def")
    assert status == 200
    assert api.tokens() == {"abc.def"}  # the list, the watch, the reviews: all with it
    assert {"LIST", "WATCH"} <= {call.split()[0] for _, call in api.calls}

    status, _ = await served.page("/ns/team", **{"X-Forwarded-Access-Token": "xyz"})
    assert status == 200
    assert api.tokens() == {"abc.def", "xyz"}
    assert api.tokens("LIST") == {"abc.def", "xyz"}  # one feed per person, never shared


async def test_a_form_token_of_one_person_is_refused_for_another(serve: Start) -> None:
    api = with_task()
    api.users = {"token-a": ("alice", True), "token-b": ("bob", True)}
    served = await serve(api, mode=AuthMode.BEARER)
    status, page = await served.page(RUN_NOW, Authorization="Bearer token-a")
    assert status == 200 and "alice" in page
    form = {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")}

    as_bob = await served.post(RUN_NOW, form, Authorization="Bearer token-b")
    assert as_bob.status == 403
    assert "stale or forged" in await as_bob.text()
    assert not api.patches and ("token-b", "PATCH team/nightly") not in api.calls

    as_alice = await served.post(RUN_NOW, form, Authorization="Bearer token-a")
    assert as_alice.status == 303
    assert len(api.patches) == 1
    assert api.tokens("PATCH") == {"token-a"}


async def test_a_form_token_belongs_to_its_browser_session(serve: Start) -> None:
    served = await serve(with_task())
    _, page = await served.page(RUN_NOW)
    form = {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")}
    await served.login()  # a new session (another browser opening the printed address)
    _, again = await served.page(RUN_NOW)
    assert hidden(again, "csrf") != form["csrf"]
    assert (await served.post(RUN_NOW, form)).status == 403
    assert not served.api.patches


async def test_with_a_public_url_form_posts_must_come_from_it(serve: Start) -> None:
    api = with_task()
    served = await serve(api, mode=AuthMode.BEARER, public_origin="https://kron.example.com/")
    bearer = {"Authorization": "Bearer abc.def"}
    _, page = await served.page(RUN_NOW, **bearer)
    form = {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")}

    # The request's own host is not the public origin: a page served elsewhere.
    own_host = await served.post(RUN_NOW, form, **bearer)
    assert own_host.status == 403 and "another origin" in await own_host.text()
    for origin in ("http://kron.example.com", "https://kron.example.com.evil.example"):
        refused = await served.post(RUN_NOW, form, **bearer, Origin=origin)
        assert refused.status == 403, origin
    referer_only = await served.client.post(
        RUN_NOW,
        data=form,
        headers={**bearer, "Referer": "https://kron.example.com/ns/team"},
        allow_redirects=False,
    )
    assert referer_only.status == 303
    assert len(api.patches) == 1
