"""`kron calendar generate`: a Calendar manifest of public holidays from `holidays`."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
import yaml
from cli_support import Cli

from kron.api.calendar import Calendar
from kron.api.constants import MAX_CALENDAR_ENTRIES
from kron.cli.calendar import build_calendar
from kron.cli.errors import CliError


def test_generate_writes_a_valid_calendar_of_the_subdivisions_holidays(kron: Cli) -> None:
    result = kron(
        "calendar", "generate", "--country", "DE", "--subdivision", "BY", "--years", "2026-2030"
    )
    assert (result.code, result.err) == (0, "")
    manifest = yaml.safe_load(result.out)
    calendar = Calendar.model_validate(manifest)
    assert calendar.metadata.name == "holidays-de-by"
    dates = [e.date for e in calendar.spec.entries]
    assert dates == sorted(dates)
    assert dates[0] == "2026-01-01" and dates[-1].startswith("2030-12-")
    by_date = {e.date: e.description for e in calendar.spec.entries}
    assert by_date["2026-01-06"] == "Epiphany"  # Bavarian, not national
    assert by_date["2026-06-04"] == "Corpus Christi"
    national = yaml.safe_load(
        kron("calendar", "generate", "--country", "DE", "--years", "2026").out
    )
    assert "2026-01-06" not in {e["date"] for e in national["spec"]["entries"]}
    assert "DE-BY, 2026-2030" in calendar.spec.description


def test_generate_takes_a_name_and_namespace(kron: Cli) -> None:
    out = kron(
        "calendar",
        "generate",
        "--country",
        "us",
        "--years",
        "2026",
        "--name",
        "us",
        "--namespace",
        "ops",
    ).out
    assert yaml.safe_load(out)["metadata"] == {"name": "us", "namespace": "ops"}


def test_unknown_country_and_bad_years_are_one_line_errors(kron: Cli) -> None:
    line = kron("calendar", "generate", "--country", "XX", "--years", "2026").assert_one_line_error(
        2
    )
    assert "XX" in line
    line = kron(
        "calendar", "generate", "--country", "DE", "--years", "2030-2026"
    ).assert_one_line_error(2)
    assert "2026 is before 2030" in line


def test_a_missing_holidays_package_says_how_to_install_it(
    kron: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import holidays` raise ImportError, as when it is absent.
    monkeypatch.setitem(sys.modules, "holidays", None)
    line = kron("calendar", "generate", "--country", "DE", "--years", "2026").assert_one_line_error(
        1
    )
    assert "pip install 'kron[calendars]'" in line


def test_too_many_holidays_for_one_calendar_is_refused() -> None:
    days = {
        dt.date(2000, 1, 1) + dt.timedelta(days=i): "x" for i in range(MAX_CALENDAR_ENTRIES + 1)
    }
    with pytest.raises(CliError, match="more than a Calendar holds"):
        build_calendar(days, name="x", namespace=None, description="d")


TASK_WITH_CALENDAR = """
apiVersion: kron.dev/v1alpha1
kind: Calendar
metadata: {name: holidays}
spec:
  entries: [{date: "2026-12-25", description: Christmas Day}]
---
apiVersion: kron.dev/v1alpha1
kind: ScheduledTask
metadata: {name: daily}
spec:
  schedule: "0 9 * * *"
  timeZone: Europe/Berlin
  excludeCalendars: [holidays]
  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}}
"""


def test_next_applies_the_calendars_in_the_manifest(kron: Cli) -> None:
    args = ("next", "-f", "-", "--after", "2026-12-24T00:00:00Z", "-n", "2")
    result = kron(*args, stdin=TASK_WITH_CALENDAR)
    assert (result.code, result.err) == (0, "")
    assert [line[:10] for line in result.lines] == ["2026-12-24", "2026-12-26"]
    shown = kron(*args, "--show-excluded", stdin=TASK_WITH_CALENDAR)
    assert shown.lines[1].endswith("excluded") and shown.lines[1].startswith("2026-12-25")


def test_next_says_when_a_named_calendar_is_not_in_the_manifest(kron: Cli) -> None:
    task_only = TASK_WITH_CALENDAR.split("---", 1)[1]
    result = kron("next", "-f", "-", "--after", "2026-12-24T00:00:00Z", "-n", "2", stdin=task_only)
    assert result.code == 0
    assert "holidays" in result.err and "not applied" in result.err
    assert [line[:10] for line in result.lines] == ["2026-12-24", "2026-12-25"]
