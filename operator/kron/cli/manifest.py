"""Reading a ScheduledTask from a file or stdin, with one-line errors that say where.

`kron next -f` accepts what people have at hand: the manifest they are about to
apply (possibly one document among others, or a ``kind: List``) or the output of
``kubectl get stask NAME -o yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import ValidationError

from kron.api import ScheduledTask, field_errors
from kron.api.constants import CALENDAR_KIND, KIND
from kron.cli.errors import CliError


def first_problem(error: ValidationError) -> str:
    """The first field error of ``error``, plus how many more there are."""
    problems = field_errors(error)
    if not problems:
        return str(error)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def parse_task(obj: Any, where: str) -> ScheduledTask:
    """``obj`` as a ScheduledTask; CliError naming the first bad field."""
    try:
        return ScheduledTask.from_api(obj)
    except ValidationError as err:
        raise CliError(f"{where}: {first_problem(err)}") from None


def _read_text(source: str, stdin: TextIO | None) -> tuple[str, str]:
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin
        try:
            return "<stdin>", stream.read()
        except UnicodeDecodeError:
            raise CliError("<stdin>: not UTF-8 text") from None
    try:
        return source, Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{source}: not UTF-8 text") from None
    except OSError as err:
        raise CliError(f"{source}: {err.strerror or err}") from None


def _yaml_problem(err: yaml.YAMLError) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        problem = err.problem or err.context or "malformed YAML"
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"malformed YAML: {err}"


def _objects(documents: list[Any], label: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise CliError(
                f"{label}: document {index + 1} is a {type(doc).__name__}, not a Kubernetes object"
            )
        items = doc.get("items")
        if str(doc.get("kind", "")).endswith("List") and isinstance(items, list):
            objects.extend(item for item in items if isinstance(item, dict))
        else:
            objects.append(doc)
    return objects


def _name_of(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(name or "?")


def load_task(source: str, stdin: TextIO | None = None) -> tuple[str, ScheduledTask]:
    """The one ScheduledTask in ``source`` (a path, or ``-`` for stdin) and its label."""
    label, task, _ = load_manifest(source, stdin)
    return label, task


def load_manifest(
    source: str, stdin: TextIO | None = None
) -> tuple[str, ScheduledTask, list[dict[str, Any]]]:
    """The one ScheduledTask in ``source``, its label, and the Calendars beside it."""
    label, text = _read_text(source, stdin)
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        raise CliError(f"{label}: {_yaml_problem(err)}") from None
    objects = _objects(documents, label)
    tasks = [obj for obj in objects if obj.get("kind") == KIND]
    if not tasks:
        kinds = sorted({str(obj.get("kind") or "no kind") for obj in objects})
        found = f" (found: {', '.join(kinds)})" if kinds else " (it is empty)"
        raise CliError(f"{label}: no {KIND} in it{found}")
    if len(tasks) > 1:
        names = ", ".join(_name_of(task) for task in tasks)
        raise CliError(f"{label}: {len(tasks)} {KIND}s ({names}); kron next -f takes one")
    calendars = [obj for obj in objects if obj.get("kind") == CALENDAR_KIND]
    return label, parse_task(tasks[0], label), calendars
