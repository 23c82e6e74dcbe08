"""The generated Calendar CRD on a real API server, and the new ScheduledTask fields:
valid samples are admitted, each mistake is refused naming its field, and the models
(what the operator uses) agree."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from contract.samples import task
from kron.api import ScheduledTask, field_errors
from kron.api.calendar import Calendar
from kron.api.constants import CALENDAR_CRD_NAME, MAX_CALENDAR_ENTRIES
from kron.api.crd import render_operator_crds
from support.cluster import ClusterHandle

pytestmark = pytest.mark.cluster


def cal(name: str = "days", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "Calendar",
        "metadata": {"name": name},
        "spec": spec,
    }


def entry(date: str, **more: Any) -> dict[str, Any]:
    return {"date": date, "description": "d", **more}


VALID = {
    "dates": cal("dates", entries=[entry("2026-12-25"), entry("2028-02-29")]),
    "range": cal("range", entries=[entry("2026-12-24", through="2027-01-01")]),
    "yearly": cal("yearly", description="x" * 256, entries=[entry("--12-25"), entry("--02-29")]),
    "empty": cal("empty"),
    "largest": cal("largest", entries=[entry("--01-01")] * MAX_CALENDAR_ENTRIES),
}
BAD = [
    ("not-a-date", cal(entries=[entry("2026-13-01")]), "spec.entries[0].date", "should match"),
    (
        "thirty-first-april",
        cal(entries=[entry("2026-04-31")]),
        "spec.entries[0].date",
        "does not exist",
    ),
    ("yearly-feb-30", cal(entries=[entry("--02-30")]), "spec.entries[0].date", "does not exist"),
    ("not-a-leap-year", cal(entries=[entry("2027-02-29")]), "spec.entries[0].date", "leap years"),
    (
        "range-backwards",
        cal(entries=[entry("2026-12-31", through="2026-12-01")]),
        "spec.entries[0].through",
        "must not be before",
    ),
    (
        "range-from-yearly",
        cal(entries=[entry("--12-24", through="2026-12-31")]),
        "spec.entries[0].through",
        "full date",
    ),
    (
        "no-description",
        cal(entries=[{"date": "2026-01-01"}]),
        "spec.entries[0].description",
        "Required",
    ),
    (
        "long-description",
        cal(entries=[entry("2026-01-01", description="x" * 257)]),
        "spec.entries[0].description",
        "may not be more than 256",
    ),
    (
        "too-many-entries",
        cal(entries=[entry("--01-01")] * (MAX_CALENDAR_ENTRIES + 1)),
        "spec.entries",
        "must have at most 1000 items",
    ),
    (
        "unknown-field",
        cal(entries=[entry("2026-01-01", wat=1)]),
        "spec.entries[0].wat",
        "unknown field",
    ),
]
TASK_BAD = [
    (
        "calendar-name-shape",
        task("t", excludeCalendars=["Not_A_Name"]),
        "spec.excludeCalendars[0]",
        "should match",
    ),
    (
        "too-many-calendars",
        task("t", restrictToCalendars=[f"c{i}" for i in range(9)]),
        "spec.restrictToCalendars",
        "must have at most 8 items",
    ),
    (
        "duplicate-calendar",
        task("t", excludeCalendars=["a", "a"]),
        "spec.excludeCalendars[1]",
        "Duplicate",
    ),
    (
        "deadline-zero",
        task("t", successDeadlineSeconds=0),
        "spec.successDeadlineSeconds",
        "greater than or equal to 1",
    ),
    ("max-runs-zero", task("t", maxRuns=0), "spec.maxRuns", "greater than or equal to 1"),
    (
        "max-runs-huge",
        task("t", maxRuns=10**10),
        "spec.maxRuns",
        "less than or equal to 1000000000",
    ),
]


@pytest.fixture(scope="module")
def scratch(cluster: ClusterHandle) -> Iterator[str]:
    cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-", input=render_operator_crds()
    )
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/{CALENDAR_CRD_NAME}", "--timeout=60s"
    )
    name = f"t-calendar-contract-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def dry_run(cluster: ClusterHandle, namespace: str, obj: dict[str, Any]) -> str:
    result = cluster.kubectl(
        "create", "--dry-run=server", "--validate=strict", "-n", namespace, "-f", "-",
        input=json.dumps(obj), check=False,
    )  # fmt: skip
    return result.stderr if result.returncode else ""


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_calendars_are_admitted_and_read_by_the_models(
    cluster: ClusterHandle, scratch: str, name: str
) -> None:
    assert dry_run(cluster, scratch, VALID[name]) == ""
    Calendar.model_validate(VALID[name])


@pytest.mark.parametrize(
    ("name", "obj", "field", "says"), BAD + TASK_BAD, ids=[b[0] for b in BAD + TASK_BAD]
)
def test_mistakes_are_refused_naming_the_field(
    cluster: ClusterHandle, scratch: str, name: str, obj: dict[str, Any], field: str, says: str
) -> None:
    complaint = dry_run(cluster, scratch, obj)
    assert complaint, "admitted"
    assert field in complaint and says in complaint, complaint
    if name == "duplicate-calendar":
        return  # a list-type=set rule: only the API server checks it (harmless to the model)
    model = ScheduledTask if obj["kind"] == "ScheduledTask" else Calendar
    with pytest.raises(ValidationError) as caught:
        model.model_validate(obj)
    paths = [p.path for p in field_errors(caught.value)]
    assert any(field.startswith(p) or p.startswith(field) for p in paths), paths


def test_new_task_fields_are_admitted(cluster: ClusterHandle, scratch: str) -> None:
    obj = task(
        "newfields",
        excludeCalendars=["holidays"],
        restrictToCalendars=["business-days", "trading.days"],
        successDeadlineSeconds=7200,
        maxRuns=10,
        retryPolicy={"maxRetries": 2, "retryManualRuns": False},
    )
    assert dry_run(cluster, scratch, obj) == ""
    ScheduledTask.model_validate(obj)


def test_calendars_are_stored_and_printed(
    cluster: ClusterHandle, namespace: str, crd_installed: str
) -> None:
    obj = cal("printed", description="Public holidays", entries=[entry("2026-12-25")])
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj))
    stored = json.loads(
        cluster.kubectl("get", "kcal", "printed", "-n", namespace, "-o", "json").stdout
    )
    assert stored["spec"] == obj["spec"]
    header, row = cluster.kubectl("get", "calendars", "-n", namespace).stdout.splitlines()
    assert header.split() == ["NAME", "DESCRIPTION", "FIRST", "AGE"]
    assert "Public holidays" in row and "2026-12-25" in row
