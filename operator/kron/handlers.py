"""Thin kopf glue: watch events in, engine calls out.

kopf watches the ScheduledTasks and Calendars and hands every event to the engine's
indexes. The runs (Jobs and bare Pods) are watched by kron itself (`kron.k8s.watch`):
they bring most of the events, and kopf's per-object machinery was most of the cost of
handling them. There are no kopf timers, daemons, finalizers or progress annotations:
the engine owns time, and ownerReferences remove runs with their task.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kron.api.constants import CALENDAR_PLURAL, GROUP, PLURAL, VERSION
from kron.engine import Engine
from kron.k8s.api import KubeApi
from kron.settings import Settings


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff base: kron registers only `on.event` handlers, which never read one.

    kopf's default storage deep-copies every watched object on every event to build
    the "essence" that on.create/on.update/on.field handlers diff against, and
    would keep it in an annotation. With Job, Pod and task events on the fire path
    that copy was about 8% of the operator's CPU at 50 fires/s, for nothing.
    """

    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        return {}

    def fetch(self, *, body: Any) -> None:
        return None

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        return None


LIST_CHUNK = 500
"""Objects per page when kopf lists the tasks (as kron's own lists do)."""


def kopf_settings(settings: Settings) -> kopf.OperatorSettings:
    ks = kopf.OperatorSettings()
    ks.persistence.diffbase_storage = NoDiffBase()
    ks.posting.enabled = False  # kron posts its own, rate-limited Events
    ks.scanning.disabled = True  # serve the named namespaces or all; no CRD/namespace scans
    # kopf lists a collection in one request unless told otherwise: 100,000 tasks in
    # one answer were hundreds of megabytes held at once, which the process kept.
    ks.watching.chunk_size = LIST_CHUNK
    ks.watching.server_timeout = settings.watch_timeout
    ks.watching.client_timeout = settings.watch_timeout + 30
    ks.networking.request_timeout = 60
    ks.peering.standalone = True  # leadership is kron's own Lease, not kopf peering
    # kopf keeps a worker task (with the object's last event) per watched object until
    # it has been idle this long. A start with every task and run present creates one
    # per object at once; kopf's 5 s default held 5,000 of them long enough to leave
    # the operator at 187 MB RSS instead of 152 MB (measured with 5,000 tasks).
    ks.queueing.idle_timeout = 0.5
    return ks


def build_registry(engine: Engine, api: KubeApi) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    config = api.configuration

    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        """The same cluster and credentials as kron's own client (--kubeconfig, --context)."""
        token: str = await config.get_api_key_with_prefix("BearerToken") or ""
        scheme, _sep, value = token.partition(" ")
        return kopf.ConnectionInfo(
            server=config.host,
            ca_path=config.ssl_ca_cert,
            insecure=not config.verify_ssl,
            scheme=scheme or None,
            token=value or None,
            certificate_path=config.cert_file,
            private_key_path=config.key_file,
        )

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def task_event(event: kopf.RawEvent, **_: Any) -> None:
        engine.observe_task(event.get("type"), dict(event["object"]))

    @kopf.on.event(GROUP, VERSION, CALENDAR_PLURAL, registry=registry)
    async def calendar_event(event: kopf.RawEvent, **_: Any) -> None:
        engine.calendars.observe(event.get("type"), dict(event["object"]))

    return registry


def quiet_kopf(level: int = logging.WARNING) -> None:
    """kopf logs each handled event at INFO; at 10^4 tasks that is noise, not news."""
    for name in ("kopf", "kopf.objects", "kopf.activities", "kopf.reactor"):
        logging.getLogger(name).setLevel(level)
