"""The independent watcher: one process, its own watch on Jobs, millisecond stamps.

It stamps each watch line with the wall clock the moment the line arrives, before
parsing it, and appends one CSV row per ADDED Job carrying the bench phase label:
``seen,name,phase,nominal,task``. ``nominal`` is the run's scheduled instant as the
creator wrote it (kron's `kron.dev/scheduled-time`, the CronJob controller's
`batch.kubernetes.io/cronjob-scheduled-timestamp`), ``task`` its task or CronJob.
Only metadata is requested (PartialObjectMetadata), so each event is small.

    python -m bench.watcher --kubeconfig K --out FILE [--ready FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from kubernetes.aio import client as kclient
from kubernetes.aio import config as kconfig

PHASE_LABEL = "bench.kron.dev/phase"
KRON_NOMINAL = "kron.dev/scheduled-time"
KRON_TASK = "kron.dev/task"
CRONJOB_NOMINAL = "batch.kubernetes.io/cronjob-scheduled-timestamp"
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
WATCH_SECONDS = 3600


def row(seen: float, obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    nominal = annotations.get(KRON_NOMINAL) or annotations.get(CRONJOB_NOMINAL) or ""
    task = labels.get(KRON_TASK) or ""
    if not task:
        owners = meta.get("ownerReferences") or []
        task = owners[0].get("name", "") if owners else ""
    return f"{seen:.3f},{meta.get('name', '')},{labels.get(PHASE_LABEL, '')},{nominal},{task}\n"


async def connect(kubeconfig: str) -> tuple[str, ssl.SSLContext]:
    configuration = kclient.Configuration()
    await kconfig.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return str(configuration.host), context


async def watch(kubeconfig: str, out: Path, ready: Path | None) -> None:
    host, context = await connect(kubeconfig)
    url = f"{host}/apis/batch/v1/jobs"
    selector = PHASE_LABEL
    headers = {"Accept": METADATA_ONLY}
    connector = aiohttp.TCPConnector(ssl=context)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        rv = ""
        with out.open("a", buffering=1 << 16) as sink:
            flusher = asyncio.create_task(flush_every(sink, 0.25))
            while True:
                if not rv:
                    params = {"labelSelector": selector, "limit": "1"}
                    list_headers = {"Accept": METADATA_LIST}
                    async with session.get(url, params=params, headers=list_headers) as resp:
                        resp.raise_for_status()
                        rv = (await resp.json())["metadata"]["resourceVersion"]
                    if ready is not None:
                        ready.write_text(rv)  # noqa: ASYNC240 (once, tiny)
                        ready = None
                params = {
                    "labelSelector": selector,
                    "watch": "1",
                    "allowWatchBookmarks": "true",
                    "resourceVersion": rv,
                    "timeoutSeconds": str(WATCH_SECONDS),
                }
                async with session.get(url, params=params, headers=headers) as resp:
                    resp.raise_for_status()
                    while True:
                        line = await resp.content.readline()
                        seen = time.time()
                        if not line:
                            break
                        event = json.loads(line)
                        kind = event.get("type")
                        obj = event.get("object") or {}
                        if kind == "ERROR":
                            # 410 Gone: the watch fell too far behind; start over from now.
                            print(f"watch error: {obj.get('message')}", file=sys.stderr)
                            sink.write(f"{seen:.3f},!gap,,,\n")
                            rv = ""
                            break
                        rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                        if kind == "ADDED":
                            sink.write(row(seen, obj))
            flusher.cancel()


async def flush_every(sink: TextIO, seconds: float) -> None:
    """Readers poll the file; a quiet watch must not hold rows back in the buffer."""
    while True:
        await asyncio.sleep(seconds)
        sink.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ready", type=Path, help="written with the start resourceVersion")
    args = parser.parse_args()

    async def run() -> None:
        task = asyncio.create_task(watch(args.kubeconfig, args.out, args.ready))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
