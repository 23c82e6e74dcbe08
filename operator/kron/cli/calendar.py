"""`kron calendar generate`: a Calendar manifest of public holidays.

The days come from the `holidays` package (python-holidays), which is not a
dependency of the operator: it is only needed here, at the command line, and is
installed with ``pip install 'kron[calendars]'``. The manifest is checked with the
same model the operator reads Calendars with before it is printed, so what this
writes is what `kubectl apply` admits and the operator uses.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import Any

import yaml
from pydantic import ValidationError

from kron.api import field_errors
from kron.api.calendar import Calendar, CalendarSpec
from kron.api.constants import API_VERSION, MAX_CALENDAR_DESCRIPTION, MAX_CALENDAR_ENTRIES
from kron.cli.errors import CliError, UsageError
from kron.planner import CalendarState, calendar_days

MAX_YEARS = 100
MISSING = (
    "kron calendar generate needs the holidays package, which the operator does not: "
    "pip install 'kron[calendars]' (or pip install holidays)"
)
_YEARS = re.compile(r"([0-9]{4})(?:-([0-9]{4}))?")


def calendar_state(obj: Any) -> CalendarState:
    """A Calendar object's days as the operator reads them (or why not)."""
    spec = obj.get("spec") if isinstance(obj, dict) else None
    try:
        return CalendarState(calendar_days(CalendarSpec.model_validate(spec)))
    except ValidationError as err:
        return CalendarState(None, "; ".join(str(p) for p in field_errors(err))[:600])


def calendars_by_name(objects: list[dict[str, Any]]) -> dict[str, CalendarState]:
    """Calendar objects (from a manifest) by name."""
    found: dict[str, CalendarState] = {}
    for obj in objects:
        meta = obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if isinstance(name, str):
            found[name] = calendar_state(obj)
    return found


def parse_years(text: str) -> list[int]:
    """``2026``, ``2026-2030`` or a comma list of those."""
    years: set[int] = set()
    for part in text.split(","):
        found = _YEARS.fullmatch(part.strip())
        if found is None:
            raise argparse.ArgumentTypeError(
                f"expected YEAR or FIRST-LAST (2026-2030), got {part!r}"
            )
        first = int(found.group(1))
        last = int(found.group(2) or first)
        if last < first:
            raise argparse.ArgumentTypeError(f"{part!r}: {last} is before {first}")
        years.update(range(first, last + 1))
        if len(years) > MAX_YEARS:
            raise argparse.ArgumentTypeError(f"at most {MAX_YEARS} years")
    return sorted(years)


def _holidays_module() -> Any:
    try:
        return importlib.import_module("holidays")
    except ImportError:
        raise CliError(MISSING) from None


def default_name(country: str, subdivision: str | None) -> str:
    parts = ["holidays", country, *([subdivision] if subdivision else [])]
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def _description(names: str) -> str:
    # python-holidays joins several holidays on one day with "; ".
    text = " ".join(names.split())
    if len(text) > MAX_CALENDAR_DESCRIPTION:
        text = text[: MAX_CALENDAR_DESCRIPTION - 1] + "\u2026"
    return text


def build_calendar(
    days: dict[Any, str],
    *,
    name: str,
    namespace: str | None,
    description: str,
) -> dict[str, Any]:
    """The Calendar manifest for `days` (date -> holiday name), validated."""
    if len(days) > MAX_CALENDAR_ENTRIES:
        raise CliError(
            f"{len(days)} holidays are more than a Calendar holds ({MAX_CALENDAR_ENTRIES}); "
            "generate fewer years per Calendar and list several in excludeCalendars"
        )
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    manifest = {
        "apiVersion": API_VERSION,
        "kind": "Calendar",
        "metadata": metadata,
        "spec": {
            "description": _description(description),
            "entries": [
                {"date": day.isoformat(), "description": _description(str(title))}
                for day, title in sorted(days.items())
            ],
        },
    }
    try:
        Calendar.model_validate(manifest)
    except ValidationError as err:
        problems = "; ".join(str(p) for p in field_errors(err))
        raise CliError(f"the generated Calendar is not valid: {problems}") from None
    return manifest


def generate_command(args: argparse.Namespace) -> int:
    prog = str(args.prog_name)
    years: list[int] = args.years
    country = str(args.country).upper()
    subdivision = str(args.subdivision).upper() if args.subdivision else None
    module = _holidays_module()
    try:
        found = module.country_holidays(
            country, subdiv=subdivision, years=years, language=args.language
        )
    except NotImplementedError as err:
        raise UsageError(f"{err} (holidays {module.__version__})", prog) from None
    name = args.name or default_name(country, subdivision)
    where = f"{country}-{subdivision}" if subdivision else country
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
    manifest = build_calendar(
        dict(found.items()),
        name=name,
        namespace=args.namespace,
        description=f"Public holidays of {where}, {span} (python-holidays {module.__version__})",
    )
    sys.stdout.write(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    return 0


def add_calendar_verbs(verbs: Any, verb: Any) -> None:
    """`kron calendar generate` (``verb`` is the parser builder of kron.cli.main)."""
    group = verbs.add_parser(
        "calendar", help="Calendar helpers.", description="Calendar helpers (no cluster needed)."
    )
    sub_verbs = group.add_subparsers(dest="calendar_verb", metavar="COMMAND", required=True)
    sub = verb(
        sub_verbs,
        "generate",
        "kron.cli.calendar:generate_command",
        "Write a Calendar manifest of a country's public holidays (needs kron[calendars]).",
    )
    sub.add_argument("--country", required=True, help="ISO 3166-1 code (DE, US, FR, ...)")
    sub.add_argument("--subdivision", help="state or region code (BY for Bavaria, CA, ...)")
    sub.add_argument(
        "--years", required=True, type=parse_years, help="YEAR, FIRST-LAST or a comma list"
    )
    sub.add_argument("--name", help="the Calendar's name (default: holidays-<country>[-<sub>])")
    sub.add_argument("--namespace", help="metadata.namespace (default: none, kubectl's -n)")
    sub.add_argument("--language", help="language of the descriptions, if the country has it")
