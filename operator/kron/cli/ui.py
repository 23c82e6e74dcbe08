"""`kron ui`: serve the web page (see `kron.ui`) on this machine, or behind a proxy.

By default it listens on 127.0.0.1 at a free port and acts with your kubeconfig; the
address it prints carries a key, so other accounts on the machine cannot borrow your
rights. ``--auth bearer`` serves it in a cluster behind the platform's authentication
proxy, forwarding each user's own token; a non-loopback address is refused without it.
The web code and Jinja2 are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path

from kron.cli.errors import CliError, UsageError
from kron.cli.parsing import Parser

INSTALL_HINT = "pip install 'kron[ui]'"


def add_parser(verbs: argparse._SubParsersAction[Parser]) -> None:
    summary = "Serve a web page of your tasks (schedules, runs, herds) with your own rights."
    sub = verbs.add_parser("ui", help=summary, description=summary)
    sub.set_defaults(handler="kron.cli.ui:ui_command", prog_name=sub.prog)
    sub.epilog = (
        "Listens on 127.0.0.1 at a free port unless told otherwise, and prints the "
        "address to open (it carries a key). Needs Jinja2: " + INSTALL_HINT + "."
    )
    sub.add_argument(
        "-n",
        "--namespace",
        help="namespace the start page shows (default: the kubeconfig context's, else default)",
    )
    sub.add_argument("--kubeconfig", help="kubeconfig file (default: as kubectl finds it)")
    sub.add_argument("--context", help="kubeconfig context (default: the current context)")
    sub.add_argument("--address", default="127.0.0.1", help="address to listen on (127.0.0.1)")
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


def ui_command(args: argparse.Namespace) -> int:
    prog = str(args.prog_name)
    _check_jinja()
    from kron.ui.security import AuthMode, is_loopback  # noqa: PLC0415

    mode = AuthMode(args.auth)
    if not is_loopback(args.address) and mode is AuthMode.KUBECONFIG:
        raise UsageError(
            f"refusing to listen on {args.address}: the page acts with your kubeconfig, so "
            "anyone reaching it would act as you. Keep the default 127.0.0.1, or serve it "
            "behind an authentication proxy with --auth bearer",
            prog,
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}", prog)
    if args.linger < 0:
        raise UsageError("--linger must not be negative", prog)
    from kron.cli.cluster import NAMESPACE_NAME  # noqa: PLC0415
    from kron.cli.kubeconfig import in_cluster, resolve_target  # noqa: PLC0415

    if args.namespace is not None and not NAMESPACE_NAME.fullmatch(args.namespace):
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
    gate = Gate(mode, api, public_origin=args.public_url)
    app = build_app(gate, Feeds(linger=args.linger), UiSettings(default_namespace=namespace))
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.address, args.port)
        try:
            await site.start()
        except OSError as err:
            raise CliError(f"cannot listen on {args.address}:{args.port}: {err.strerror}") from None
        port = int(runner.addresses[0][1])
        host = args.address if ":" not in args.address else f"[{args.address}]"
        if mode is AuthMode.KUBECONFIG:
            gate.allow_loopback_port(port)
            url = f"http://{host}:{port}/?key={gate.launch_key}"
        else:
            url = f"http://{host}:{port}/"
        where = "this machine only" if is_loopback(args.address) else args.address
        sys.stdout.write(f"{prog}: serving {url}\n")
        acting = "your kubeconfig" if mode is AuthMode.KUBECONFIG else "each request's own token"
        sys.stdout.write(
            f"{prog}: acting with {acting} on {api.host}; listening on {where}; Ctrl-C stops\n"
        )
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await api.close()
