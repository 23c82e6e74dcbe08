"""`kron run`: build `Settings` from flags and ``KRON_*`` environment variables, then serve.

A flag wins over the environment, the environment over the default (each field's
flag, variable and converter: kron.cli.knobs). Values are checked here, with one-line
errors naming the flag or variable, before anything connects anywhere; a setting
that proves bad only when used (a kubeconfig the client cannot load, a port taken)
is one line too (kron.settings.SettingsError).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from kron.cli.errors import CliError, UsageError, one_line
from kron.cli.knobs import LOG_LEVELS, POD_NAMESPACE_FILE, knobs, run_parser, unknown_variables
from kron.cli.kubeconfig import SERVICE_ACCOUNT_DIR, in_cluster, kubeconfig_paths, resolve_target
from kron.dns1123 import is_label, is_subdomain
from kron.k8s.shards import SHARD_BUCKETS
from kron.settings import Settings, SettingsError, parse_weights

MAX_SECONDS = 86_400.0
"""Longest lease timing, watch timeout or event refill: a day (the Lease's
leaseDurationSeconds is an int32; past a day a setting is a typo, not a choice)."""
MAX_IDENTITY = 253


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
    if not 0 <= settings.status_interval <= 300:
        raise fail("status_interval", f"must be 0-300 seconds, got {settings.status_interval:g}")
    if settings.max_pending_events < 0:
        raise fail("max_pending_events", f"must not be negative, got {settings.max_pending_events}")
    for name in ("lease_duration", "renew_deadline", "retry_period", "event_refill_seconds"):
        value = getattr(settings, name)
        if value <= 0:
            raise fail(name, f"must be greater than 0, got {value:g}")
        if value > MAX_SECONDS:
            raise fail(name, f"must be at most {MAX_SECONDS:g} seconds, got {value:g}")
    if settings.watch_timeout > MAX_SECONDS:
        raise fail("watch_timeout", f"must be at most {MAX_SECONDS:g} seconds")
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
        if not is_label(namespace):
            raise fail("namespaces", f"{namespace!r} is not a valid namespace name")
    if len(set(settings.namespaces)) != len(settings.namespaces):
        raise fail("namespaces", "lists a namespace twice")
    try:
        weights = parse_weights(settings.namespace_weights)
    except ValueError as err:
        raise fail("namespace_weights", str(err)) from None
    for namespace in weights:
        if not is_label(namespace):
            raise fail("namespace_weights", f"{namespace!r} is not a valid namespace name")
    if not is_subdomain(settings.lease_name):
        raise fail("lease_name", f"{settings.lease_name!r} is not a valid object name")
    if not is_label(settings.lease_namespace):
        raise fail("lease_namespace", f"{settings.lease_namespace!r} is not a valid namespace name")
    if not settings.identity.strip():
        raise fail("identity", "must not be empty")
    if not settings.identity.isprintable() or len(settings.identity) > MAX_IDENTITY:
        raise fail("identity", f"must be one line of at most {MAX_IDENTITY} printable characters")


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
    """Fail early, in one line, when there is no way to reach a cluster: no kubeconfig
    and not in one, a kubeconfig that is not YAML, a context it does not have."""
    if settings.kubeconfig is None:
        _, found = kubeconfig_paths(None, environ, home)
        if found is None and not in_cluster(environ, account_dir):
            raise CliError(
                "no kubeconfig and not inside a cluster: pass --kubeconfig or set KUBECONFIG"
            )
        if found is None:
            return  # the in-cluster service account
    resolve_target(
        kubeconfig=settings.kubeconfig,
        context=settings.context,
        namespace=None,
        environ=environ,
        home=home,
        account_dir=account_dir,
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
    except SettingsError as err:  # a kubeconfig the client cannot load, a port taken
        sys.stderr.write(f"{prog}: error: {one_line(err)}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
