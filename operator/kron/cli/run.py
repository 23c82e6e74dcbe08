"""`kron run`: build `Settings` from flags and ``KRON_*`` environment variables, then serve.

Every field of `kron.settings.Settings` is a flag (``--lease-name``) and an
environment variable (``KRON_LEASE_NAME``); a flag wins over the environment, the
environment over the default. ``--help`` repeats the docstrings written beside the
fields in kron/settings.py, so the two cannot drift. Values are checked here, with
one-line errors naming the flag or variable, before anything connects anywhere.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import dataclasses
import difflib
import importlib
import inspect
import math
import re
import sys
import textwrap
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from kron.cli.errors import CliError, UsageError
from kron.cli.kubeconfig import SERVICE_ACCOUNT_DIR, in_cluster, kubeconfig_paths
from kron.cli.parsing import Parser
from kron.k8s.shards import SHARD_BUCKETS
from kron.settings import Settings

ENV_PREFIX = "KRON_"
POD_NAMESPACE_FILE = SERVICE_ACCOUNT_DIR / "namespace"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

# Fields kron/settings.py does not document (yet); the docstring wins once it exists.
FALLBACK_HELP: Mapping[str, str] = {
    "lease_name": "Name of the Lease object used for leader election.",
    "lease_duration": "Seconds a Lease stays valid without renewal before another "
    "replica may take it.",
    "renew_deadline": "Seconds the leader keeps trying to renew before it steps down.",
    "retry_period": "Seconds between attempts to acquire or renew the Lease.",
    "json_logs": "Log one JSON object per line.",
    "log_level": f"Log level: {', '.join(LOG_LEVELS)}.",
}


def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings of a dataclass, read from its source.

    A field without its own docstring takes the next docstring that names it in
    backquotes (one docstring documents ``shard_index`` and ``shard_count``).
    """
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = cast("ast.ClassDef", ast.parse(source).body[0]).body
    own: dict[str, str] = {}
    order: list[str] = []
    for node, following in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            order.append(node.target.id)
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                own[node.target.id] = " ".join(inspect.cleandoc(following.value.value).split())
    docs = dict(own)
    for index, name in enumerate(order):
        if name in docs:
            continue
        for later in order[index + 1 :]:
            if later in own and f"`{name}`" in own[later]:
                docs[name] = own[later]
                break
    return docs


# -- one converter per field type ---------------------------------------------------------


def _to_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _to_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _to_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def _to_names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _to_str(text: str) -> str:
    return text


Converter = Callable[[str], Any]


def _converter(hint: Any) -> Converter:
    if hint is bool:
        return _to_bool
    if hint is int:
        return _to_int
    if hint is float:
        return _to_float
    if hint is str or hint == (str | None):
        return _to_str
    if typing.get_origin(hint) is tuple and typing.get_args(hint) == (str, ...):
        return _to_names
    raise TypeError(f"kron run: no converter for Settings field type {hint}")


@dataclasses.dataclass(frozen=True, slots=True)
class Knob:
    """One Settings field as the command line and the environment see it."""

    name: str
    flag: str
    env: str
    convert: Converter
    is_bool: bool
    help: str


def knobs() -> list[Knob]:
    """Every Settings field, in declaration order."""
    hints = typing.get_type_hints(Settings)
    docs = field_docs(Settings)
    found = []
    for field in dataclasses.fields(Settings):
        hint = hints[field.name]
        found.append(
            Knob(
                name=field.name,
                flag="--" + field.name.replace("_", "-"),
                env=ENV_PREFIX + field.name.upper(),
                convert=_converter(hint),
                is_bool=hint is bool,
                help=docs.get(field.name) or FALLBACK_HELP.get(field.name, ""),
            )
        )
    return found


def _default_text(field: dataclasses.Field[Any]) -> str:
    if field.default is dataclasses.MISSING:
        return "computed"
    value = field.default
    if isinstance(value, tuple):
        return ",".join(value) or "(empty)"
    if value is None:
        return "(unset)"
    return str(value).lower() if isinstance(value, bool) else str(value)


def run_parser(prog: str = "kron run") -> argparse.ArgumentParser:
    parser = Parser(
        prog=prog,
        description="Run the kron operator. Every flag can also be set with the environment "
        "variable named after it (KRON_ and the flag in upper case); a flag wins.",
        epilog=f"When neither --lease-namespace nor KRON_LEASE_NAMESPACE is set, the Lease "
        f"goes to the namespace in {POD_NAMESPACE_FILE} (in a cluster), else 'default'.",
    )
    defaults = {f.name: f for f in dataclasses.fields(Settings)}
    for knob in knobs():
        text = f"{knob.help} [{knob.env}; default: {_default_text(defaults[knob.name])}]"
        text = text.replace("%", "%%")
        if knob.is_bool:
            parser.add_argument(
                knob.flag,
                dest=knob.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=text,
            )
        else:
            metavar = "LIST" if knob.convert is _to_names else knob.name.split("_")[-1].upper()
            parser.add_argument(knob.flag, dest=knob.name, default=None, metavar=metavar, help=text)
    return parser


# -- validation ----------------------------------------------------------------------------


def _check(settings: Settings, source: Mapping[str, str]) -> None:
    """Refuse values the operator cannot run with; each message names its source."""

    def fail(field: str, problem: str) -> UsageError:
        return UsageError(f"{source[field]}: {problem}")

    if settings.qps <= 0:
        raise fail("qps", f"must be greater than 0, got {settings.qps:g}")
    positive_ints = ("burst", "workers", "shard_count", "event_burst_per_task", "watch_timeout")
    for name in positive_ints:
        value = getattr(settings, name, 1)
        if value < 1:
            raise fail(name, f"must be at least 1, got {value}")
    if settings.shard_count > SHARD_BUCKETS:
        raise fail("shard_count", f"must be at most {SHARD_BUCKETS}, got {settings.shard_count}")
    if not 0 <= settings.shard_index < settings.shard_count:
        raise fail(
            "shard_index",
            f"must be between 0 and {source['shard_count']} - 1 ({settings.shard_count - 1}), "
            f"got {settings.shard_index}",
        )
    if not 0 <= settings.metrics_port <= 65_535:
        raise fail("metrics_port", f"must be a port 0-65535 (0: none), got {settings.metrics_port}")
    if settings.max_pending_events < 0:
        raise fail("max_pending_events", f"must not be negative, got {settings.max_pending_events}")
    for name in ("lease_duration", "renew_deadline", "retry_period", "event_refill_seconds"):
        value = getattr(settings, name)
        if value <= 0:
            raise fail(name, f"must be greater than 0, got {value:g}")
    if settings.renew_deadline >= settings.lease_duration:
        raise fail(
            "renew_deadline",
            f"must be less than {source['lease_duration']} "
            f"({settings.renew_deadline:g} >= {settings.lease_duration:g})",
        )
    if settings.retry_period >= settings.renew_deadline:
        raise fail(
            "retry_period",
            f"must be less than {source['renew_deadline']} "
            f"({settings.retry_period:g} >= {settings.renew_deadline:g})",
        )
    if settings.log_level not in LOG_LEVELS:
        raise fail(
            "log_level", f"must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}"
        )
    for namespace in settings.namespaces:
        if len(namespace) > 63 or not DNS1123_LABEL.fullmatch(namespace):
            raise fail("namespaces", f"{namespace!r} is not a valid namespace name")
    if len(set(settings.namespaces)) != len(settings.namespaces):
        raise fail("namespaces", "lists a namespace twice")
    if len(settings.lease_name) > 253 or not DNS1123_SUBDOMAIN.fullmatch(settings.lease_name):
        raise fail("lease_name", f"{settings.lease_name!r} is not a valid object name")
    if len(settings.lease_namespace) > 63 or not DNS1123_LABEL.fullmatch(settings.lease_namespace):
        raise fail("lease_namespace", f"{settings.lease_namespace!r} is not a valid namespace name")
    if not settings.identity.strip():
        raise fail("identity", "must not be empty")


def _pod_namespace(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def settings_from(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    pod_namespace_file: Path = POD_NAMESPACE_FILE,
    prog: str = "kron run",
) -> Settings:
    """Settings from ``argv`` (flags) over ``environ`` (KRON_*) over the defaults.

    Raises UsageError with one line naming the flag or variable at fault.
    """
    args = run_parser(prog).parse_args(list(argv))
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for knob in knobs():
        source[knob.name] = f"{knob.flag} ({knob.env})"
        given = getattr(args, knob.name)
        if given is not None:
            raw, origin = given, knob.flag
        elif environ.get(knob.env, "").strip():
            raw, origin = environ[knob.env], knob.env
        else:
            continue
        source[knob.name] = origin
        if isinstance(raw, bool):
            values[knob.name] = raw
            continue
        try:
            values[knob.name] = knob.convert(str(raw))
        except ValueError as err:
            raise UsageError(f"{origin}: {err}") from None
    if "log_level" in values:
        values["log_level"] = str(values["log_level"]).strip().upper()
    if "lease_namespace" not in values:
        own = _pod_namespace(pod_namespace_file)
        if own:
            values["lease_namespace"] = own
            source["lease_namespace"] = str(pod_namespace_file)
    settings = Settings(**values)
    _check(settings, source)
    return settings


def check_cluster_config(
    settings: Settings,
    environ: Mapping[str, str],
    home: Path,
    account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> None:
    """Fail early, in one line, when there is no way to reach a cluster."""
    if settings.kubeconfig:
        kubeconfig_paths(settings.kubeconfig, environ, home)  # raises if missing
        return
    _, found = kubeconfig_paths(None, environ, home)
    if found is None and not in_cluster(environ, account_dir):
        raise CliError(
            "no kubeconfig and not inside a cluster: pass --kubeconfig or set KUBECONFIG"
        )


Serve = Callable[[Settings], Coroutine[Any, Any, None]]


def _serve_function() -> Serve:
    try:
        app = importlib.import_module("kron.app")
    except ModuleNotFoundError as err:
        if err.name != "kron.app":
            raise
        raise CliError("this build of kron has no operator (module kron.app is missing)") from None
    return cast("Serve", app.serve)


NOT_SETTINGS = frozenset({"KRON_DEBUG"})
"""KRON_* variables that are read elsewhere, not settings of `kron run`."""


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per KRON_* variable `kron run` does not know, with the likely intended name.

    Not an error: the same environment may carry variables for other tools (the local
    cluster harness reads KRON_KCM_QPS, the tests KRON_TEST_KUBECONFIG); a typo in an
    operator setting, though, would otherwise be silently ignored.
    """
    known = {knob.env for knob in knobs()} | NOT_SETTINGS
    lines = []
    for name in sorted(environ):
        if name.startswith("KRON_") and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            lines.append(f"ignoring {name}: not a kron run setting{hint}")
    return lines


def run_main(argv: Sequence[str], environ: Mapping[str, str], *, prog: str = "kron run") -> int:
    """`kron run`: parse and check settings, then hand them to kron.app.serve."""
    try:
        settings = settings_from(argv, environ, prog=prog)
        for line in unknown_variables(environ):
            sys.stderr.write(f"{prog}: warning: {line}\n")
        check_cluster_config(settings, environ, Path.home())
        serve = _serve_function()
    except UsageError as err:
        sys.stderr.write(f"{err.prog or prog}: error: {err.message}\n")
        return err.exit_code
    except CliError as err:
        sys.stderr.write(f"{prog}: error: {err.message}\n")
        return err.exit_code
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 130
    return 0
