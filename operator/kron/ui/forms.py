"""The action forms: run now, suspend, resume, backfill, read from a page and checked.

Every action ends in `kron.cli.actions`, the code behind `kron trigger|suspend|resume|
backfill`, so the page writes the same patch and refuses the same requests. A form is
shown first as a confirmation (what will be written, and what the operator will do),
then posted; the run-now token is fixed at confirmation so the run name shown is the
one created.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from kron.cli.actions import (
    Action,
    backfill_action,
    new_token,
    resume_action,
    suspend_action,
    trigger_action,
)
from kron.cli.errors import CliError
from kron.planner.requests import FORCE_PREFIX
from kron.schedule import load_zone

ACTIONS: Final = {
    "run-now": "Run now",
    "suspend": "Suspend",
    "resume": "Resume",
    "backfill": "Backfill",
}
# Tokens the page makes (kron.cli.actions.new_token), optionally forced.
_TOKEN = re.compile(r"(force:)?[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}")
_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?")


@dataclass(frozen=True, slots=True)
class ActionForm:
    """What a form asks for, before it is checked against the task."""

    action: str
    token: str = ""
    force: bool = False
    start: str = ""
    end: str = ""

    @classmethod
    def read(cls, action: str, values: Mapping[str, Any], now: float) -> ActionForm:
        if action not in ACTIONS:
            raise CliError(f"unknown action {action!r}")
        token = str(values.get("token") or "") or new_token(now)
        return cls(
            action=action,
            token=token,
            force=str(values.get("force") or "") in ("1", "on", "true"),
            start=str(values.get("from") or "").strip(),
            end=str(values.get("to") or "").strip(),
        )

    @property
    def needs_interval(self) -> bool:
        return self.action == "backfill" and not (self.start and self.end)


def parse_local(text: str, zone_name: str, label: str) -> dt.datetime:
    """An instant typed on the page: RFC 3339 with an offset, or a wall time
    (``2026-11-01T00:00``, as a datetime-local input sends it) in the task's zone."""
    zone = load_zone(zone_name)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{label}: {text!r} is not a date and time (2026-11-01T00:00)") from None
    if value.tzinfo is not None:
        return value
    if not _LOCAL.fullmatch(text):
        raise CliError(f"{label}: {text!r} is not a date and time (2026-11-01T00:00)")
    local = value.replace(tzinfo=zone)
    there_and_back = local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if there_and_back != value:
        raise CliError(
            f"{label}: {text} does not exist in {zone_name} (clocks jump over it that day)"
        )
    return local


def build_action(form: ActionForm, obj: dict[str, Any], name: str, now: float) -> Action:
    """The action for ``form`` on the task ``obj``; CliError when it is refused."""
    if form.action == "run-now":
        if not _TOKEN.fullmatch(form.token):
            raise CliError("the form's run-now token is malformed: reload the page")
        token = form.token.removeprefix(FORCE_PREFIX)
        return trigger_action(obj, name, token, force=form.force)
    if form.action == "suspend":
        return suspend_action(obj, name)
    if form.action == "resume":
        if _TOKEN.fullmatch(form.token) is None or form.token.startswith(FORCE_PREFIX):
            raise CliError("the form's resume token is malformed: reload the page")
        return resume_action(obj, name, form.token)
    zone = str((obj.get("spec") or {}).get("timeZone") or "UTC")
    start = parse_local(form.start, zone, "from")
    end = parse_local(form.end, zone, "to")
    return backfill_action(obj, name, start, end, now)
