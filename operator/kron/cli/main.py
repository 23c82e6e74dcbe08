"""Command-line parsing and dispatch for `kron` and `kubectl kron`.

Both entry points share one parser builder; `kubectl kron` offers only the verbs
that act on tasks in a cluster (plus `next`). Handlers are named as strings and
imported when chosen, so `kron next` and `kron crd` never import the Kubernetes
client or kopf, and `kron run` reads its own flags (see `kron.cli.run`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import cast

from kron.cli.calendar import add_calendar_verbs
from kron.cli.errors import CliError, UsageError, one_line
from kron.cli.parsing import Parser
from kron.cli.run import run_main
from kron.cli.timefmt import parse_instant
from kron.cli.ui import add_parser as add_ui_parser

Handler = Callable[[argparse.Namespace], int]

DEBUG_ENV = "KRON_DEBUG"
"""Set to 1 to let an unexpected exception show its traceback."""

NAMESPACE_HELP = "namespace of the task (default: the kubeconfig context's namespace, else default)"
KUBECONFIG_HELP = (
    "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster account)"
)
CONTEXT_HELP = "kubeconfig context (default: the current context)"


def _version() -> str:
    try:
        return metadata.version("kron")
    except metadata.PackageNotFoundError:
        return "unknown"


def _cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--namespace", help=NAMESPACE_HELP)
    parser.add_argument("--kubeconfig", help=KUBECONFIG_HELP)
    parser.add_argument("--context", help=CONTEXT_HELP)


def _verb(
    verbs: argparse._SubParsersAction[Parser], name: str, handler: str, summary: str
) -> Parser:
    sub = verbs.add_parser(name, help=summary, description=summary)
    sub.set_defaults(handler=handler, prog_name=sub.prog)
    return sub


def _add_next(verbs: argparse._SubParsersAction[Parser]) -> None:
    sub = _verb(
        verbs,
        "next",
        "kron.cli.local:next_command",
        "Upcoming fire times of an expression, a manifest (-f) or a task in the cluster.",
    )
    sub.epilog = (
        "An argument that is a valid Kubernetes name is a task in the cluster; anything "
        "else is a schedule expression (quote it). For an expression or -f, -n is the "
        "count; for a task, -n is the namespace (kubectl's convention) and --count the count."
    )
    sub.add_argument("target", nargs="*", metavar="EXPR|TASK", help="expression or task name")
    sub.add_argument(
        "-f", "--filename", metavar="FILE", help="a ScheduledTask manifest ('-' for stdin)"
    )
    sub.add_argument("--tz", metavar="ZONE", help="IANA zone of an expression (default: UTC)")
    sub.add_argument(
        "--after",
        type=parse_instant,
        metavar="RFC3339",
        help="list fire times after this instant (default: now)",
    )
    sub.add_argument(
        "-n",
        dest="n",
        metavar="N|NAMESPACE",
        help="how many (default 5) for EXPR and -f; the namespace for a TASK",
    )
    sub.add_argument("-c", "--count", type=int, metavar="N", help="how many (default 5)")
    sub.add_argument(
        "--uid",
        help="seed jitter with this UID (-f; default: the manifest's metadata.uid)",
    )
    sub.add_argument(
        "--show-excluded",
        action="store_true",
        help="also list ticks matched by excludeSchedules, marked 'excluded'",
    )
    sub.add_argument("--namespace", dest="namespace", help=NAMESPACE_HELP)
    sub.add_argument("--kubeconfig", help=KUBECONFIG_HELP)
    sub.add_argument("--context", help=CONTEXT_HELP)


def _add_cluster_verbs(verbs: argparse._SubParsersAction[Parser]) -> None:
    sub = _verb(
        verbs,
        "trigger",
        "kron.cli.verbs:trigger_command",
        "Fire one manual run now (sets kron.dev/run-now to a fresh token).",
    )
    sub.add_argument("task", metavar="TASK")
    sub.add_argument("--token", help="the run-now token (default: a fresh timestamped value)")
    sub.add_argument(
        "--force",
        action="store_true",
        help="start the run even if concurrencyPolicy would hold it (token gets 'force:')",
    )
    _cluster_options(sub)

    sub = _verb(
        verbs, "suspend", "kron.cli.verbs:suspend_command", "Stop firing (sets spec.suspend)."
    )
    sub.add_argument("task", metavar="TASK")
    _cluster_options(sub)

    sub = _verb(
        verbs,
        "resume",
        "kron.cli.verbs:resume_command",
        "Fire again: clears spec.suspend and sets kron.dev/resume (clears TooManyFailures).",
    )
    sub.add_argument("task", metavar="TASK")
    _cluster_options(sub)

    sub = _verb(
        verbs,
        "backfill",
        "kron.cli.verbs:backfill_command",
        "Run every tick of the schedule in an interval (sets kron.dev/backfill).",
    )
    sub.add_argument("task", metavar="TASK")
    sub.add_argument("--from", dest="start", required=True, type=parse_instant, metavar="RFC3339")
    sub.add_argument("--to", dest="end", required=True, type=parse_instant, metavar="RFC3339")
    _cluster_options(sub)

    sub = _verb(
        verbs, "history", "kron.cli.verbs:history_command", "The last runs and ticks, and totals."
    )
    sub.add_argument("task", metavar="TASK")
    _cluster_options(sub)

    sub = _verb(
        verbs,
        "status",
        "kron.cli.verbs:status_command",
        "Conditions, next fire time and active runs of a task.",
    )
    sub.add_argument("task", metavar="TASK")
    _cluster_options(sub)


def build_parser(prog: str, *, plugin: bool) -> Parser:
    """The parser of `kron` (``plugin=False``) or of `kubectl kron`."""
    parser = Parser(
        prog=prog,
        description="kron: scheduled workloads on Kubernetes."
        if not plugin
        else "kubectl kron: inspect and drive kron ScheduledTasks.",
    )
    parser.add_argument("--version", action="version", version=f"kron {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)
    if not plugin:
        _verb(
            verbs,
            "run",
            "kron.cli.run:run_command",
            "Run the operator (see 'kron run --help').",
        )
    _add_next(verbs)
    if not plugin:
        _verb(
            verbs,
            "crd",
            "kron.cli.local:crd_command",
            "Print the ScheduledTask and Calendar CRDs (YAML).",
        )
        add_calendar_verbs(verbs, _verb)
    _add_cluster_verbs(verbs)
    if not plugin:
        add_ui_parser(verbs)
    return parser


def _handler(name: str) -> Handler:
    module, _, function = name.partition(":")
    return cast("Handler", getattr(importlib.import_module(module), function))


def _report(prog: str, message: str) -> None:
    sys.stderr.write(f"{prog}: error: {message}\n")


def _dispatch(argv: Sequence[str] | None, prog: str, *, plugin: bool) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not plugin and args_list[:1] == ["run"]:
        # `kron run` has a parser of its own, generated from kron.settings.Settings.
        return run_main(args_list[1:], os.environ, prog=f"{prog} run")
    parser = build_parser(prog, plugin=plugin)
    command = prog
    try:
        args = parser.parse_args(args_list)
        command = str(args.prog_name)
        return _handler(str(args.handler))(args)
    except UsageError as err:
        _report(err.prog or command, err.message)
        return err.exit_code
    except CliError as err:
        _report(command, err.message)
        return err.exit_code
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kron next ... | head`
        return 0
    except Exception as err:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        _report(
            command,
            f"unexpected {type(err).__name__}: {one_line(err)} "
            f"(a bug in kron; {DEBUG_ENV}=1 shows the traceback)",
        )
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `kron`."""
    return _dispatch(argv, "kron", plugin=False)


def kubectl_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `kubectl-kron`, which kubectl runs for `kubectl kron ...`."""
    return _dispatch(argv, "kubectl kron", plugin=True)
