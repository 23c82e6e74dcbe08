"""Who is asking, and whether a form post really comes from our own page.

Two ways to run, chosen on the command line and never guessed:

- ``kubeconfig`` (the default, on a loopback address only): the server acts with the
  user's own kubeconfig, so it must make sure only that user's browser reaches it.
  Another account on the same machine can connect to loopback addresses too, so:
  the address printed at start carries a random launch key; opening it sets an
  HttpOnly, SameSite=Strict session cookie named after this server's host and port
  (two servers never overwrite each other's), signed for that host; every request
  without it is refused. The Host header must be exactly the printed host and port
  (a DNS-rebinding page cannot borrow the session). And where the system says which
  account owns the connecting program (Linux, `kron.ui.peers`), a program of another
  account is refused even with a valid cookie: browsers send a host's cookies to every
  port of it, so a cookie can leak to another account's server on the same address.
- ``bearer`` (in a cluster, behind the platform's authentication proxy): each request
  must carry the user's own token (``Authorization: Bearer`` or oauth2-proxy's
  ``X-Forwarded-Access-Token``); the server forwards it to the API server and holds no
  credentials of its own, so it can do nothing a user could not do with kubectl.

Form posts (the actions) must be same-origin: ``Sec-Fetch-Site`` (when sent) is
``same-origin``, ``Origin`` (or ``Referer``) names this server, and the form carries
a token derived, with a per-process secret, from the identity and (kubeconfig mode)
the browser session, so a token is worth nothing to another session or person.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from kron.k8s.api import KubeApi

COOKIE_PREFIX: Final = "kron_ui_"
LAUNCH_PARAM: Final = "key"
TOKEN_HEADER: Final = "X-Forwarded-Access-Token"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9\-._~+/=]{1,8192}")
_SESSION = re.compile(r"[A-Za-z0-9_-]{16,64}\.[0-9a-f]{64}")


class AuthMode(StrEnum):
    KUBECONFIG = "kubeconfig"
    BEARER = "bearer"


@dataclass(frozen=True, slots=True)
class Identity:
    """One person's view of the cluster: feeds and caches are keyed by it, form tokens
    by it and the browser session (kubeconfig mode)."""

    key: str
    api: KubeApi
    session: str = ""


class Refused(Exception):
    """A request refused before it reaches the API server: HTTP status and the reason."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class PeerChecker(Protocol):
    def check(self, request: web.Request) -> None: ...


def cookie_name(host: str) -> str:
    """``kron_ui_127-4-9-33_40817`` for ``127.4.9.33:40817``: browsers keep one cookie
    per name and host whatever the port, so each server names its own."""
    name, _, port = host.rpartition(":")
    return COOKIE_PREFIX + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + "_" + port


class Gate:
    """Identifies requests and checks form posts."""

    def __init__(
        self,
        mode: AuthMode,
        api: KubeApi,
        *,
        secret: bytes | None = None,
        launch_key: str | None = None,
        public_origin: str | None = None,
        peers: PeerChecker | None = None,
    ) -> None:
        self.mode = mode
        self._api = api
        self._secret = secret or secrets.token_bytes(32)
        self.launch_key = launch_key or secrets.token_urlsafe(24)
        self.public_origin = public_origin.rstrip("/") if public_origin else None
        self.peers = peers
        self.host: str | None = None  # kubeconfig mode: set once the address is known
        self.cookie = COOKIE_PREFIX + "session"

    def _mac(self, *parts: str) -> str:
        message = "\0".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def pin_host(self, host: str) -> None:
        """Answer only as ``host`` (``127.4.9.33:40817``, what the printed address names)."""
        self.host = host
        self.cookie = cookie_name(host)

    # -- identity --------------------------------------------------------------------

    def check_peer(self, request: web.Request) -> None:
        """Kubeconfig mode: refuse programs of other accounts (where the OS tells)."""
        if self.mode is AuthMode.KUBECONFIG and self.peers is not None:
            self.peers.check(request)

    def launch(self, request: web.Request) -> web.StreamResponse | None:
        """The answer to a request carrying the launch key: set the cookie, drop the key."""
        given = request.query.get(LAUNCH_PARAM)
        if self.mode is not AuthMode.KUBECONFIG or given is None:
            return None
        host = self._check_host(request)
        if not hmac.compare_digest(given.encode(), self.launch_key.encode()):
            raise Refused(401, "Wrong key", "This address has an old or wrong key.")
        query = {k: v for k, v in request.query.items() if k != LAUNCH_PARAM}
        target = request.rel_url.with_query(query)
        response = web.Response(status=303, headers={"Location": str(target)})
        session = secrets.token_urlsafe(24)
        response.set_cookie(
            self.cookie,
            f"{session}.{self._mac('session', host, session)}",
            httponly=True,
            samesite="Strict",
            path="/",
            secure=False,
        )
        return response

    def _check_host(self, request: web.Request) -> str:
        if self.host is None:
            raise Refused(503, "Starting", "kron ui is not listening yet.")
        if request.host != self.host:
            raise Refused(421, "Wrong address", f"This server answers only as {self.host}.")
        return self.host

    def _session(self, request: web.Request) -> str | None:
        """The session the cookie names, if this server signed it for this host."""
        host = self._check_host(request)
        cookie = request.cookies.get(self.cookie, "")
        if not _SESSION.fullmatch(cookie):
            return None
        session, _, mac = cookie.partition(".")
        expected = self._mac("session", host, session)
        return session if hmac.compare_digest(mac.encode(), expected.encode()) else None

    def identify(self, request: web.Request) -> Identity:
        if self.mode is AuthMode.KUBECONFIG:
            session = self._session(request)
            if session is None:
                raise Refused(
                    401,
                    "Open the address kron ui printed",
                    "This page acts with the kubeconfig of whoever started kron ui, so it "
                    "opens only through the address it printed (it carries a key).",
                )
            return Identity("local", self._api, session)
        token = bearer_token(request)
        if token is None:
            raise Refused(
                401,
                "No credentials",
                "The authentication proxy sent no token (Authorization: Bearer or "
                f"{TOKEN_HEADER}); kron ui acts only with each user's own token.",
            )
        key = "t:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        return Identity(key, self._api.with_headers({"Authorization": f"Bearer {token}"}))

    # -- form posts --------------------------------------------------------------------

    def csrf_token(self, identity: Identity) -> str:
        return self._mac("csrf", identity.key, identity.session)[:40]

    def _origin_ok(self, request: web.Request, origin: str) -> bool:
        if self.public_origin is not None:
            return origin.rstrip("/") == self.public_origin
        # Behind a proxy that ends TLS the scheme differs; the host must not.
        return urlsplit(origin).netloc == request.host

    def check_post(self, request: web.Request, identity: Identity, token: str | None) -> None:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            raise Refused(403, "Refused", f"A form from another site ({site}) was refused.")
        origin = request.headers.get("Origin")
        if origin in (None, "null"):
            referer = request.headers.get("Referer")
            if not referer:
                raise Refused(403, "Refused", "A form post without Origin or Referer.")
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
        if not self._origin_ok(request, origin):
            raise Refused(403, "Refused", f"A form post from another origin ({origin}).")
        expected = self.csrf_token(identity)
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Refused(403, "Refused", "The form is stale or forged: reload the page.")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else request.headers.get(TOKEN_HEADER)
    if token is None:
        return None
    token = token.strip()
    return token if _TOKEN_CHARS.fullmatch(token) else None


def is_loopback(address: str) -> bool:
    """Does a bind address accept connections from this machine only?"""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False
