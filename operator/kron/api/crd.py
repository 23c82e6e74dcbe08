"""Generate the ScheduledTask CRD (and the API reference page) from the models.

    python -m kron.api.crd            print the CRD
    python -m kron.api.crd --write    write crds/, the chart's copy and docs/reference/api.md
                                      (and the admission policy's files: kron.api.policy)
    python -m kron.api.crd --check    fail (exit 1) if any of them is stale

``make manifests`` and ``make verify`` run the last two from the repository root.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kron.api import cel
from kron.api.calendar import Calendar, CalendarSpec
from kron.api.constants import (
    CALENDAR_CRD_NAME,
    CALENDAR_KIND,
    CALENDAR_PLURAL,
    CALENDAR_SHORT_NAME,
    CALENDAR_SINGULAR,
    CATEGORY,
    CRD_NAME,
    GROUP,
    KIND,
    PLURAL,
    SHORT_NAME,
    SINGULAR,
    VERSION,
)
from kron.api.policy import generated as policy_files
from kron.api.reference import render_reference, render_tables, replace_section
from kron.api.schema import to_structural
from kron.api.spec import ScheduledTaskSpec
from kron.api.status import ScheduledTaskStatus
from kron.api.task import ScheduledTask

CRD_PATH = Path("crds") / f"{GROUP}_{PLURAL}.yaml"
CHART_CRD_PATH = Path("charts") / "kron" / "crds" / f"{GROUP}_{PLURAL}.yaml"
CALENDAR_CRD_PATH = Path("crds") / f"{GROUP}_{CALENDAR_PLURAL}.yaml"
CHART_CALENDAR_CRD_PATH = Path("charts") / "kron" / "crds" / f"{GROUP}_{CALENDAR_PLURAL}.yaml"
API_REFERENCE_PATH = Path("docs/reference/api.md")
"""The page whose section between the api-reference markers is generated."""

HEADER = (
    "# Code generated from operator/kron/api by `make manifests` "
    "(python -m kron.api.crd --write). DO NOT EDIT.\n"
)

_READY = '.status.conditions[?(@.type=="Ready")]'
PRINTER_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Schedule",
        "type": "string",
        "jsonPath": ".status.scheduleSummary",
        "description": "The schedule (first expression and how many more).",
    },
    {"name": "TimeZone", "type": "string", "jsonPath": ".spec.timeZone"},
    {"name": "Suspend", "type": "boolean", "jsonPath": ".spec.suspend"},
    {"name": "Active", "type": "integer", "jsonPath": ".status.activeCount"},
    {
        "name": "Last Schedule",
        "type": "date",
        "jsonPath": ".status.lastScheduleTime",
        "description": "How long ago the newest tick was handled.",
    },
    {
        "name": "Next",
        "type": "string",
        "jsonPath": ".status.nextScheduleTime",
        "description": "When the task fires next (RFC 3339).",
    },
    {"name": "Ready", "type": "string", "jsonPath": f"{_READY}.status"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Reason", "type": "string", "jsonPath": f"{_READY}.reason", "priority": 1},
    {"name": "Concurrency", "type": "string", "jsonPath": ".spec.concurrencyPolicy", "priority": 1},
    {
        "name": "Failures",
        "type": "integer",
        "jsonPath": ".status.consecutiveFailures",
        "description": "Consecutive failed runs.",
        "priority": 1,
    },
    {
        "name": "Overdue",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Overdue")].status',
        "description": "True when no run succeeded within successDeadlineSeconds of a tick.",
        "priority": 1,
    },
]
CALENDAR_PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Description", "type": "string", "jsonPath": ".spec.description"},
    {
        "name": "First",
        "type": "string",
        "jsonPath": ".spec.entries[0].date",
        "description": "The first entry's date.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def spec_schema() -> dict[str, Any]:
    """Structural schema of ``spec`` (with server-side defaults)."""
    return to_structural(ScheduledTaskSpec.model_json_schema(mode="validation"))


def status_schema() -> dict[str, Any]:
    """Structural schema of ``status``: serialised form (has activeCount), no defaults.

    Pydantic lists computed fields as required in serialisation mode; the API server
    would then refuse any status patch that leaves ``activeCount`` out (a merge patch
    of one field, say), so they are outputs here, never requirements.
    """
    schema = ScheduledTaskStatus.model_json_schema(mode="serialization")
    computed = {
        field.alias or name for name, field in ScheduledTaskStatus.model_computed_fields.items()
    }
    required = [r for r in schema.get("required", []) if r not in computed]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return to_structural(schema, keep_defaults=False)


def open_api_schema() -> dict[str, Any]:
    """The whole object's schema, as served for ``kron.dev/v1alpha1``."""
    fields = ScheduledTask.model_fields
    return {
        "type": "object",
        "description": ScheduledTask.__doc__,
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "Versioned schema of this object: kron.dev/v1alpha1.",
            },
            "kind": {"type": "string", "description": "Kind of this object: ScheduledTask."},
            # Only metadata.name may be constrained in a CRD; the length rule is below.
            "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
            "spec": {**spec_schema(), "description": fields["spec"].description},
            "status": {**status_schema(), "description": fields["status"].description},
        },
        **cel.rules(cel.NAME_LENGTH_RULE),
    }


def build_crd() -> dict[str, Any]:
    """The CustomResourceDefinition as a dict."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": [SHORT_NAME],
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": open_api_schema()},
                }
            ],
        },
    }


def render_crd() -> str:
    """The CRD as YAML, with the DO-NOT-EDIT header; deterministic."""
    body = yaml.safe_dump(build_crd(), sort_keys=True, width=100, allow_unicode=True)
    return HEADER + body


def calendar_spec_schema() -> dict[str, Any]:
    """Structural schema of a Calendar's ``spec``."""
    return to_structural(CalendarSpec.model_json_schema(mode="validation"))


def build_calendar_crd() -> dict[str, Any]:
    """The Calendar CustomResourceDefinition as a dict (namespaced, no status)."""
    schema = {
        "type": "object",
        "description": Calendar.__doc__,
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "Versioned schema of this object: kron.dev/v1alpha1.",
            },
            "kind": {"type": "string", "description": "Kind of this object: Calendar."},
            "metadata": {"type": "object"},
            "spec": {
                **calendar_spec_schema(),
                "description": Calendar.model_fields["spec"].description,
            },
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CALENDAR_CRD_NAME},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": CALENDAR_KIND,
                "listKind": f"{CALENDAR_KIND}List",
                "plural": CALENDAR_PLURAL,
                "singular": CALENDAR_SINGULAR,
                "shortNames": [CALENDAR_SHORT_NAME],
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": CALENDAR_PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def render_calendar_crd() -> str:
    """The Calendar CRD as YAML, with the DO-NOT-EDIT header; deterministic."""
    body = yaml.safe_dump(build_calendar_crd(), sort_keys=True, width=100, allow_unicode=True)
    return HEADER + body


def render_operator_crds() -> str:
    """Every CRD the operator reads (ScheduledTask, Calendar) as one multi-document
    YAML stream, each document byte for byte its file in crds/."""
    return render_crd() + "---\n" + render_calendar_crd()


def render_api_reference(current: str) -> str:
    """``current`` text of the API reference page with a fresh generated section."""
    checks = [check.message for check in cel.EXPRESSION_CHECKS]
    body = render_reference(spec_schema(), status_schema(), checks, cel.KNOWN_LENIENCIES)
    calendar = render_tables("Calendar spec", calendar_spec_schema())
    return replace_section(current, body + "\n" + calendar)


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` with the content it should have."""
    crd = render_crd()
    page = root / API_REFERENCE_PATH
    return {
        root / CRD_PATH: crd,
        root / CHART_CRD_PATH: crd,
        root / CALENDAR_CRD_PATH: render_calendar_crd(),
        root / CHART_CALENDAR_CRD_PATH: render_calendar_crd(),
        page: render_api_reference(page.read_text(encoding="utf-8")),
        **policy_files.generated_files(root),
    }


def _stale(root: Path) -> list[Path]:
    return [
        path
        for path, content in generated_files(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print, write or check the generated files."""
    parser = argparse.ArgumentParser(
        prog="python -m kron.api.crd", description=__doc__.split("\n")[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the generated files")
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    parser.add_argument(
        "--root", type=Path, default=Path(), help="repository root (default: current directory)"
    )
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        sys.stdout.write(render_crd())
        return 0
    root: Path = args.root
    if not (root / "crds").is_dir() or not (root / API_REFERENCE_PATH).is_file():
        parser.error(
            f"{root.resolve()} is not the kron repository root (no crds/ or {API_REFERENCE_PATH})"
        )
    try:
        stale = _stale(root)
    except ValueError as exc:
        sys.stderr.write(f"kron.api.crd: {exc}\n")
        return 1
    if args.check:
        for path in stale:
            sys.stderr.write(f"{path}: stale, run `make manifests`\n")
        return 1 if stale else 0
    for path, content in generated_files(root).items():
        if path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
