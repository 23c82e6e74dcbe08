"""The admission policy's generated files and how they hang together, without a cluster:
fresh on disk, one validation per ScheduledTaskPolicy field, variables defined before
use, the policy's shape (fail closed, only ScheduledTasks, never their status), the
bounds and counting rule of maxCalendars, and the documentation
(docs/tenancy/admission.md) explaining every limit in its table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from kron.api import ScheduledTaskSpec
from kron.api import constants as c
from kron.api.crd import build_crd
from kron.api.policy import (
    POLICY_CRD_NAME,
    ScheduledTaskPolicy,
    ScheduledTaskPolicySpec,
    build_policy_crd,
    policy_spec,
)
from kron.api.policy.admission import LIMITS, VARIABLES
from kron.api.policy.generated import (
    CHART_POLICY_CRD_PATH,
    CHART_POLICY_SPEC_PATH,
    HEADER,
    POLICY_CRD_PATH,
    generated_files,
    render_policy_crd,
)
from kron.api.policy.model import MAX_CALENDARS

REPO = Path(__file__).resolve().parents[2]
CALENDAR_LISTS = ("excludeCalendars", "restrictToCalendars")


def test_generated_policy_files_are_fresh() -> None:
    stale = [
        str(path.relative_to(REPO))
        for path, content in generated_files(REPO).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]
    assert not stale, f"stale, run `make manifests`: {stale}"


def test_chart_policy_crd_is_identical_to_crds() -> None:
    assert (REPO / CHART_POLICY_CRD_PATH).read_bytes() == (REPO / POLICY_CRD_PATH).read_bytes()


def test_generated_files_say_do_not_edit() -> None:
    assert "DO NOT EDIT" in HEADER and "make manifests" in HEADER
    for path in (POLICY_CRD_PATH, CHART_POLICY_SPEC_PATH):
        assert (REPO / path).read_text(encoding="utf-8").startswith(HEADER)
    assert yaml.safe_load(render_policy_crd()) == build_policy_crd()


def test_crd_is_cluster_scoped_in_kron_dev() -> None:
    crd = build_policy_crd()
    assert crd["metadata"]["name"] == POLICY_CRD_NAME == "scheduledtaskpolicies.kron.dev"
    assert crd["spec"]["scope"] == "Cluster"
    assert crd["spec"]["group"] == c.GROUP
    (version,) = crd["spec"]["versions"]
    assert version["name"] == c.VERSION and version["served"] and version["storage"]
    assert ScheduledTaskPolicy().api_version == c.API_VERSION


def test_every_policy_field_is_enforced_by_one_validation() -> None:
    fields = {f.alias or name for name, f in ScheduledTaskPolicySpec.model_fields.items()}
    enforced = [limit.field for limit in LIMITS]
    assert sorted(enforced) == sorted(fields)
    spec = policy_spec()
    assert len(spec["validations"]) == len(LIMITS)
    for limit, validation in zip(LIMITS, spec["validations"], strict=True):
        assert validation["expression"] == f"!variables.{limit.variable}"
        assert f"has(params.spec.{limit.field})" in limit.broken
        assert f"params.spec.{limit.field}" in limit.problem
        assert validation["reason"] == "Forbidden"
        assert validation["message"] and validation["messageExpression"]


def test_variables_are_defined_before_they_are_used() -> None:
    defined: set[str] = set()
    for variable in policy_spec()["variables"]:
        used = set(re.findall(r"variables\.([A-Za-z]+)", variable["expression"]))
        assert used <= defined, (variable["name"], used - defined)
        assert variable["name"] not in defined
        defined.add(variable["name"])
    for validation in policy_spec()["validations"]:
        for text in (validation["expression"], validation["messageExpression"]):
            assert set(re.findall(r"variables\.([A-Za-z]+)", text)) <= defined


def test_policy_fails_closed_and_never_sees_status_writes() -> None:
    spec = policy_spec()
    assert spec["failurePolicy"] == "Fail"
    assert spec["paramKind"] == {"apiVersion": c.API_VERSION, "kind": "ScheduledTaskPolicy"}
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert rule["resources"] == [c.PLURAL]  # not scheduledtasks/status: kron's writes
    assert sorted(rule["operations"]) == ["CREATE", "UPDATE"]


def test_schedule_indexes_cover_the_crd_maximum() -> None:
    (indexes,) = [cel for name, cel in VARIABLES if name == "indexes"]
    assert indexes.startswith(str(list(range(c.MAX_SCHEDULES))))


def test_max_calendars_reaches_every_calendar_a_task_can_name() -> None:
    """maxCalendars counts distinct names of both lists: its bound is what the two lists
    of the ScheduledTask CRD hold together (each a set, so no name twice in one)."""
    task = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    lists = [task["properties"]["spec"]["properties"][f] for f in CALENDAR_LISTS]
    assert all(node["x-kubernetes-list-type"] == "set" for node in lists)
    assert sum(node["maxItems"] for node in lists) == MAX_CALENDARS == 2 * c.MAX_TASK_CALENDARS
    bound = build_policy_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    field = bound["properties"]["spec"]["properties"]["maxCalendars"]
    assert (field["type"], field["minimum"], field["maximum"]) == ("integer", 0, MAX_CALENDARS)


@pytest.mark.parametrize("value", [0, MAX_CALENDARS])
def test_max_calendars_admits_its_bounds(value: int) -> None:
    assert ScheduledTaskPolicySpec.model_validate({"maxCalendars": value}).max_calendars == value


@pytest.mark.parametrize("value", [-1, MAX_CALENDARS + 1])
def test_max_calendars_refuses_beyond_its_bounds(value: int) -> None:
    with pytest.raises(ValidationError, match="maxCalendars"):
        ScheduledTaskPolicySpec.model_validate({"maxCalendars": value})


def test_calendars_limit_reads_both_lists_on_update() -> None:
    """An update that changes either list is checked; one that leaves both alone is not."""
    variables = dict(VARIABLES)
    (limit,) = [lim for lim in LIMITS if lim.field == "maxCalendars"]
    assert "!variables.calendarsUnchanged" in limit.broken
    assert "size(variables.calendars)" in limit.broken
    for name in CALENDAR_LISTS:
        assert f"oldObject.spec.{name}" in variables["calendarsUnchanged"]
        assert f"variables.{name}" in variables["calendars"]


@pytest.mark.parametrize(
    ("exclude", "restrict", "count"),
    [
        (None, None, 0),
        (["holidays"], None, 1),
        (None, ["trading-days"], 1),
        (["holidays"], ["holidays", "trading-days"], 2),
        (["a", "b", "c"], ["c", "d"], 4),
        ([f"c{i}" for i in range(8)], [f"c{i}" for i in range(8)], 8),
        ([f"e{i}" for i in range(8)], [f"r{i}" for i in range(8)], MAX_CALENDARS),
    ],
)
def test_calendars_counted_are_those_kron_reads(
    exclude: list[str] | None, restrict: list[str] | None, count: int
) -> None:
    """The rule the CEL states (tests/chart/test_policy_limits.py holds the API server to
    it): a name in both lists counts once, as kron reads and watches it once."""
    spec = ScheduledTaskSpec.model_validate(
        {
            "schedule": "30 9 * * *",
            "excludeCalendars": exclude,
            "restrictToCalendars": restrict,
            "podTemplate": {"spec": {"containers": [{"name": "m", "image": "busybox"}]}},
        }
    )
    assert len(spec.calendar_names) == count


@pytest.mark.parametrize("field", sorted(ScheduledTaskPolicySpec.model_fields))
def test_the_admission_page_explains_every_limit(field: str) -> None:
    alias = ScheduledTaskPolicySpec.model_fields[field].alias or field
    page = (REPO / "docs" / "tenancy" / "admission.md").read_text(encoding="utf-8")
    table = page.split("**The limits**", 1)[1].split("\n\n**", 1)[0]
    assert f"| `{alias}`" in table
