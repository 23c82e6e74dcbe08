"""Is a component healthy? One HTTP probe per component, on its own endpoint.

- etcd: ``GET /health`` on the client port answers ``{"health":"true"}``;
- kube-apiserver: ``GET /readyz`` (verified against the cluster CA, as the admin) is 200,
  which includes its etcd connection and post-start hooks such as RBAC bootstrap;
- kube-controller-manager, kube-scheduler: ``GET /healthz`` on their secure port is 200
  (they serve a self-signed certificate, so it is not verified: it is our own loopback
  process);
- kwok: ``GET /healthz`` on its server address is 200.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass

from localcluster.components import (
    APISERVER,
    CONTROLLER_MANAGER,
    ETCD,
    KWOK,
    SCHEDULER,
    Context,
)
from localcluster.pki import ADMIN

PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Probe:
    healthy: bool
    detail: str


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, str]:
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(4096).decode("utf-8", "replace").strip()
    finally:
        conn.close()


def _apiserver_tls(c: Context) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(c.pki.ca_cert))
    ctx.load_cert_chain(str(c.pki.client_cert(ADMIN)), str(c.pki.client_key(ADMIN)))
    return ctx


def _unverified_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def probe(component: str, c: Context) -> Probe:
    try:
        if component == ETCD:
            status, body = _get(
                http.client.HTTPConnection("127.0.0.1", c.ports.etcd_client, timeout=PROBE_TIMEOUT),
                "/health",
            )
            ok = status == 200 and json.loads(body).get("health") == "true"
            return Probe(ok, body)
        if component == APISERVER:
            conn = http.client.HTTPSConnection(
                "127.0.0.1",
                c.ports.kube_apiserver,
                timeout=PROBE_TIMEOUT,
                context=_apiserver_tls(c),
            )
            status, body = _get(conn, "/readyz")
            return Probe(status == 200, f"{status} {body}")
        if component in (CONTROLLER_MANAGER, SCHEDULER):
            port = (
                c.ports.kube_controller_manager
                if component == CONTROLLER_MANAGER
                else c.ports.kube_scheduler
            )
            conn = http.client.HTTPSConnection(
                "127.0.0.1", port, timeout=PROBE_TIMEOUT, context=_unverified_tls()
            )
            status, body = _get(conn, "/healthz")
            return Probe(status == 200, f"{status} {body}")
        if component == KWOK:
            status, body = _get(
                http.client.HTTPConnection("127.0.0.1", c.ports.kwok, timeout=PROBE_TIMEOUT),
                "/healthz",
            )
            return Probe(status == 200, f"{status} {body}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Probe(False, f"{type(exc).__name__}: {exc}")
    raise ValueError(f"unknown component {component!r}")
