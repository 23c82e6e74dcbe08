"""How `kron run` sees `Settings`: one flag and one ``KRON_*`` variable per field.

Every field of `kron.settings.Settings` is a flag (``--lease-name``) and an
environment variable (``KRON_LEASE_NAME``), each with a converter for its type (ASCII
numbers, true/false words, comma lists). ``--help`` repeats the docstrings written
beside the fields in kron/settings.py, so the two cannot drift; the reference page
(kron.cli.reference) and the chart tests read the same list. Which value wins and
whether it is acceptable is kron.cli.run's business.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import difflib
import inspect
import math
import re
import textwrap
import typing
from collections.abc import Callable, Mapping
from typing import Any, cast

from kron.cli.kubeconfig import SERVICE_ACCOUNT_DIR
from kron.cli.parsing import Parser
from kron.settings import Settings

ENV_PREFIX = "KRON_"
POD_NAMESPACE_FILE = SERVICE_ACCOUNT_DIR / "namespace"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

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


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.I
)
"""What a number may look like: ASCII digits only (Python would also take 1_000 and
other scripts' digits, which no one means in a setting)."""


def _to_int(text: str) -> int:
    if not _INT.fullmatch(text.strip()):
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text.strip())


def _to_float(text: str) -> float:
    if not _FLOAT.fullmatch(text.strip()):
        raise ValueError(f"expected a number, got {text!r}")
    value = float(text.strip())
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


NOT_SETTINGS = frozenset({"KRON_DEBUG", "KRON_CI", "KRON_CI_OWNER"})
"""KRON_* variables that are read elsewhere, not settings of `kron run`: the CLI's
traceback switch, and what .ci/run sets for the tests (tests/support/ci.py) and for
itself."""


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
