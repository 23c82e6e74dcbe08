"""`kron ui`: serve the web page (see `kron.ui`) on this machine, or behind a proxy.

By default it listens on a loopback address of its own (a random 127.x.y.z where the
system lets it bind one, as Linux does; else 127.0.0.1) at a free port and acts with
your kubeconfig; the address it prints carries a key, and (on Linux) programs of other
accounts are refused, so other accounts on the machine cannot borrow your rights.
``--auth bearer`` serves it in a cluster behind the platform's authentication proxy,
forwarding each user's own token; a non-loopback address is refused without it.
The web code and Jinja2 are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib.util
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from kron.cli.errors import CliError, UsageError
from kron.cli.parsing import Parser
from kron.dns1123 import is_label

INSTALL_HINT = "pip install 'kron[ui]'"


def add_parser(verbs: argparse._SubParsersAction[Parser]) -> None:
    summary = "Serve a web page of your tasks (schedules, runs, herds) with your own rights."
    sub = verbs.add_parser("ui", help=summary, description=summary)
    sub.set_defaults(handler="kron.cli.ui:ui_command", prog_name=sub.prog)
    sub.epilog = (
        "Listens on a random loopback address 127.x.y.z (else 127.0.0.1) at a free port "
        "unless told otherwise, and prints the address to open (it carries a key). Needs "
        "Jinja2: " + INSTALL_HINT + "."
    )
    sub.add_argument(
        "-n",
        "--namespace",
        help="namespace the start page shows (default: the kubeconfig context's, else default)",
    )
    sub.add_argument("--kubeconfig", help="kubeconfig file (default: as kubectl finds it)")
    sub.add_argument("--context", help="kubeconfig context (default: the current context)")
    sub.add_argument(
        "--address",
        help="address to listen on (default: a random 127.x.y.z of its own where the system "
        "allows binding one, else 127.0.0.1; with --auth bearer 127.0.0.1)",
    )
    sub.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sub.add_argument(
        "--auth",
        choices=("kubeconfig", "bearer"),
        default="kubeconfig",
        help="kubeconfig: act as you, loopback only (default); bearer: behind an "
        "authentication proxy, forward each request's own bearer token (no credentials of "
        "its own; the kubeconfig or in-cluster config gives only the server and CA)",
    )
    sub.add_argument(
        "--public-url",
        metavar="URL",
        help="the address users open (https://kron.example.com) when behind a proxy: form "
        "posts must come from it (default: the request's own host)",
    )
    sub.add_argument(
        "--linger",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="keep a namespace's watch this long after its last page closed (default 30)",
    )


def _check_jinja() -> None:
    if importlib.util.find_spec("jinja2") is None:
        raise CliError(f"kron ui needs Jinja2, an optional dependency: {INSTALL_HINT}")


def is_origin(url: str) -> bool:
    """``https://kron.example.com`` or ``http://host:8080``: what a browser sends as Origin."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def random_loopback() -> str:
    """A random address of 127.0.0.0/8 (not .0 or .255 in the last byte, not 127.0.0.1)."""
    while True:
        second, third = secrets.randbelow(256), secrets.randbelow(256)
        fourth = 1 + secrets.randbelow(254)
        if (second, third, fourth) != (0, 0, 1):
            return f"127.{second}.{third}.{fourth}"


def can_bind(address: str) -> bool:
    """Does this system let us listen on ``address``? (Linux routes all of 127/8 to the
    loopback interface; macOS has only 127.0.0.1 unless an alias is configured.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as err:
            if err.errno in (errno.EADDRNOTAVAIL, errno.EINVAL, errno.EACCES):
                return False
            raise
    return True


def listen_address(
    address: str | None, bearer: bool, bindable: Callable[[str], bool] = can_bind
) -> str:
    """Where to listen: the given address, else a loopback address of this run's own."""
    if address is not None:
        return address
    if bearer:
        return "127.0.0.1"
    own = random_loopback()
    return own if bindable(own) else "127.0.0.1"


def ui_command(args: argparse.Namespace) -> int:
    prog = str(args.prog_name)
    _check_jinja()
    from kron.ui.security import AuthMode, is_loopback  # noqa: PLC0415

    mode = AuthMode(args.auth)
    if args.address is not None and not is_loopback(args.address) and mode is AuthMode.KUBECONFIG:
        raise UsageError(
            f"refusing to listen on {args.address}: the page acts with your kubeconfig, so "
            "anyone reaching it would act as you. Keep the default 127.0.0.1, or serve it "
            "behind an authentication proxy with --auth bearer",
            prog,
        )
    if args.public_url is not None and not is_origin(args.public_url):
        raise UsageError(
            "--public-url must be the origin users open, a scheme and a host such as "
            f"https://kron.example.com (no path: form posts come from the origin), "
            f"got {args.public_url!r}",
            prog,
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}", prog)
    if args.linger < 0:
        raise UsageError("--linger must not be negative", prog)
    from kron.cli.kubeconfig import in_cluster, resolve_target  # noqa: PLC0415

    if args.namespace is not None and not is_label(args.namespace):
        raise UsageError(f"{args.namespace!r} is not a valid namespace name", prog)
    if (
        mode is AuthMode.BEARER
        and args.kubeconfig is None
        and in_cluster(os.environ, Path("/var/run/secrets/kubernetes.io/serviceaccount"))
    ):
        kubeconfig, context, namespace = None, None, args.namespace or "default"
    else:
        target = resolve_target(
            kubeconfig=args.kubeconfig,
            context=args.context,
            namespace=args.namespace,
            environ=os.environ,
            home=Path.home(),
        )
        kubeconfig, context, namespace = target.kubeconfig, target.context, target.namespace
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, mode, (kubeconfig, context, namespace), prog))
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def _serve(
    args: argparse.Namespace,
    mode: object,
    target: tuple[str | None, str | None, str],
    prog: str,
) -> None:
    """Serve until SIGINT/SIGTERM; ``target`` is (kubeconfig, context, namespace)."""
    from aiohttp import web  # noqa: PLC0415

    from kron.k8s.api import KubeApi  # noqa: PLC0415
    from kron.ui.feeds import Feeds  # noqa: PLC0415
    from kron.ui.peers import PeerCheck, can_tell  # noqa: PLC0415
    from kron.ui.security import AuthMode, Gate, is_loopback  # noqa: PLC0415
    from kron.ui.server import UiSettings, build_app  # noqa: PLC0415

    assert isinstance(mode, AuthMode)
    kubeconfig, context, namespace = target
    logging.getLogger("kubernetes").setLevel(logging.ERROR)
    try:
        api = await KubeApi.connect(
            kubeconfig, context=context, pool_size=32, own_credentials=mode is AuthMode.KUBECONFIG
        )
    except Exception as err:
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "the in-cluster configuration"
        raise CliError(f"cannot use {where}: {err}") from None
    peers = None
    if mode is AuthMode.KUBECONFIG and can_tell():
        peers = PeerCheck()
    gate = Gate(mode, api, public_origin=args.public_url, peers=peers)
    address = listen_address(args.address, bearer=mode is AuthMode.BEARER)
    app = build_app(gate, Feeds(linger=args.linger), UiSettings(default_namespace=namespace))
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, address, args.port)
        try:
            await site.start()
        except OSError as err:
            raise CliError(f"cannot listen on {address}:{args.port}: {err.strerror}") from None
        port = int(runner.addresses[0][1])
        host = address if ":" not in address else f"[{address}]"
        if mode is AuthMode.KUBECONFIG:
            gate.pin_host(f"{host}:{port}")
            url = f"http://{host}:{port}/?key={gate.launch_key}"
        else:
            url = f"http://{host}:{port}/"
        where = "this machine only" if is_loopback(address) else address
        acting = "your kubeconfig" if mode is AuthMode.KUBECONFIG else "each request's own token"
        lines = [
            f"serving {url}",
            f"acting with {acting} on {api.host}; listening on {where}; Ctrl-C stops",
        ]
        if mode is AuthMode.KUBECONFIG and peers is None:
            lines.append(
                "this system does not say which account a connection comes from: anyone "
                "who gets the session cookie could use it (see docs/cli/ui.md)"
            )
        sys.stdout.write("".join(f"{prog}: {line}\n" for line in lines))
        sys.stdout.flush()
        await _until_stopped()
    finally:
        await runner.cleanup()
        await api.close()
