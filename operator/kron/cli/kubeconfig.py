"""Which cluster, context and namespace a plugin verb talks to, as kubectl decides.

kubectl merges the files of ``$KUBECONFIG`` with "first file to set a value wins"
(the Python client lets the last file's current-context win), and a verb without
``-n`` acts in the context's namespace. Resolving here, from the files, keeps
`kubectl kron` in step with `kubectl`; the chosen context is then passed to the
client explicitly. Pure apart from reading files, so it is unit-tested directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kron.cli.errors import CliError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a verb acts: the kubeconfig (None: in-cluster), context and namespace."""

    kubeconfig: str | None
    context: str | None
    namespace: str


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CliError(f"kubeconfig {path}: {err.strerror or err}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise CliError(f"kubeconfig {path}: not a valid kubeconfig ({err})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise CliError(f"kubeconfig {path}: not a valid kubeconfig (not a mapping)")
    return loaded


def in_cluster(environ: Mapping[str, str], account_dir: Path) -> bool:
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) and (account_dir / "token").is_file()


def _account_namespace(account_dir: Path) -> str | None:
    try:
        return (account_dir / "namespace").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def kubeconfig_paths(
    flag: str | None, environ: Mapping[str, str], home: Path
) -> tuple[list[Path], str | None]:
    """The files to read, and the value to hand the client (None: nothing found)."""
    if flag:
        path = Path(flag).expanduser()
        if not path.is_file():
            raise CliError(f"kubeconfig {flag}: no such file")
        return [path], str(path)
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        found = [p for p in paths if p.is_file()]
        return found, os.pathsep.join(str(p) for p in found) or None
    default = home / ".kube" / "config"
    return ([default], str(default)) if default.is_file() else ([], None)


def resolve_target(
    *,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    environ: Mapping[str, str],
    home: Path,
    account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> Target:
    """Where to act; CliError (one line) when there is no usable configuration."""
    paths, handle = kubeconfig_paths(kubeconfig, environ, home)
    if handle is None:
        if in_cluster(environ, account_dir) and context is None:
            own = _account_namespace(account_dir)
            return Target(None, None, namespace or own or DEFAULT_NAMESPACE)
        where = "$KUBECONFIG" if environ.get("KUBECONFIG") else str(home / ".kube" / "config")
        raise CliError(
            f"no kubeconfig: {where} does not exist; pass --kubeconfig or set KUBECONFIG"
        )
    contexts: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for path in paths:
        config = _load(path)
        if current is None and config.get("current-context"):
            current = str(config["current-context"])
        for entry in config.get("contexts") or ():
            if isinstance(entry, dict) and entry.get("name") is not None:
                body = entry.get("context")
                contexts.setdefault(str(entry["name"]), body if isinstance(body, dict) else {})
    chosen = context or current
    if not chosen:
        raise CliError(f"kubeconfig {handle}: no current context; pass --context")
    if chosen not in contexts:
        raise CliError(f"kubeconfig {handle}: context {chosen!r} not found")
    own_namespace = contexts[chosen].get("namespace")
    return Target(handle, chosen, namespace or str(own_namespace or DEFAULT_NAMESPACE))
