"""The plugin verbs' connection to the API server, and its failures as one line.

A 404 on a task is ambiguous: the task is missing, or the ScheduledTask CRD is not
installed at all. Discovery tells them apart, so the user is told which one to fix.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from kron.api.constants import CALENDAR_PLURAL, CRD_NAME, GROUP, PLURAL, VERSION
from kron.cli.errors import CliError, UsageError, one_line
from kron.cli.kubeconfig import resolve_target
from kron.dns1123 import is_label, is_subdomain
from kron.k8s.api import ApiError, KubeApi

Object = dict[str, Any]

INSTALL_HINT = "kron crd | kubectl apply --server-side -f -"


class TaskApi(Protocol):
    """The part of `KubeApi` the verbs use (a fake in unit tests)."""

    @property
    def host(self) -> str: ...

    async def request(self, method: str, path: str) -> Object: ...

    async def get_task(self, namespace: str, name: str) -> Object: ...

    async def patch_task(self, namespace: str, name: str, patch: Object) -> Object: ...


Verb = Callable[[TaskApi, str], Awaitable[int]]


def check_names(args: argparse.Namespace, task: str, namespace: str | None) -> None:
    """Refuse names the API server could never hold (they would also bend the URL)."""
    prog = str(args.prog_name)
    if not is_subdomain(task):
        raise UsageError(f"{task!r} is not a valid task name", prog)
    if namespace is not None and not is_label(namespace):
        raise UsageError(f"{namespace!r} is not a valid namespace name", prog)


async def crd_served(api: TaskApi) -> bool:
    """Does the API server serve ScheduledTasks? (True when it cannot tell.)"""
    try:
        group = await api.request("GET", f"/apis/{GROUP}/{VERSION}")
    except ApiError as err:
        return not err.not_found
    return any(
        isinstance(r, dict) and r.get("name") == PLURAL for r in group.get("resources") or ()
    )


async def explain(api: TaskApi, err: ApiError, namespace: str, name: str) -> CliError:
    """``err`` as the one line a user can act on."""
    message = one_line(err.message, 300)
    if err.status == 404:
        if not await crd_served(api):
            return CliError(
                f"the ScheduledTask CRD ({CRD_NAME}) is not installed in this cluster "
                f"(install it: {INSTALL_HINT})"
            )
        return CliError(f'scheduledtask "{name}" not found in namespace "{namespace}"')
    if err.status == 403:
        return CliError(f"forbidden: {message}")
    if err.status == 401:
        return CliError("unauthorized: the API server rejected the kubeconfig's credentials")
    if err.status == 0:
        return CliError(f"cannot reach the API server at {api.host}: {message}")
    if err.status == 422:
        return CliError(f"rejected by the API server: {message}")
    if err.status == 409:
        return CliError(f"conflict: {message} (try again)")
    return CliError(f"the API server answered {err.status} {err.reason}: {message}")


async def get_task(api: TaskApi, namespace: str, name: str) -> Object:
    try:
        return await api.get_task(namespace, name)
    except ApiError as err:
        raise await explain(api, err, namespace, name) from None


async def get_calendars(api: TaskApi, namespace: str, names: tuple[str, ...]) -> dict[str, Object]:
    """The named Calendars of `namespace` that exist, by name (as the operator sees them)."""
    found: dict[str, Object] = {}
    for name in names:
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{CALENDAR_PLURAL}/{name}"
        try:
            found[name] = await api.request("GET", path)
        except ApiError as err:
            if not err.not_found:
                raise await explain(api, err, namespace, name) from None
    return found


async def patch_task(api: TaskApi, namespace: str, name: str, patch: Object) -> Object:
    """A JSON merge patch of the task's spec or metadata."""
    try:
        return await api.patch_task(namespace, name, patch)
    except ApiError as err:
        raise await explain(api, err, namespace, name) from None


async def _connect(kubeconfig: str | None, context: str | None) -> KubeApi:
    # The client logs a warning for each kubeconfig path it cannot find; the verbs
    # say what went wrong themselves, in one line.
    logging.getLogger("kubernetes").setLevel(logging.ERROR)
    try:
        return await KubeApi.connect(kubeconfig, context=context, pool_size=4)
    except Exception as err:  # the client raises several unrelated types here
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "the in-cluster service account"
        raise CliError(f"cannot use {where}: {one_line(err, 200)}") from None


async def _with_api(kubeconfig: str | None, context: str | None, namespace: str, verb: Verb) -> int:
    api = await _connect(kubeconfig, context)
    try:
        return await verb(api, namespace)
    finally:
        await api.close()


def run_verb(
    args: argparse.Namespace, task: str, verb: Verb, *, namespace: str | None = None
) -> int:
    """Resolve where to act (as kubectl would), connect, and run ``verb``."""
    chosen = namespace if namespace is not None else args.namespace
    check_names(args, task, chosen)
    target = resolve_target(
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=chosen,
        environ=os.environ,
        home=Path.home(),
    )
    return asyncio.run(_with_api(target.kubeconfig, target.context, target.namespace, verb))
