"""The admission policy's generated files and how they hang together, without a cluster:
fresh on disk, one validation per ScheduledTaskPolicy field, variables defined before
use, the policy's shape (fail closed, only ScheduledTasks, never their status), and
the documentation (docs/tenancy/admission.md) explaining every limit in its table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kron.api import constants as c
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

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("field", sorted(ScheduledTaskPolicySpec.model_fields))
def test_the_admission_page_explains_every_limit(field: str) -> None:
    alias = ScheduledTaskPolicySpec.model_fields[field].alias or field
    page = (REPO / "docs" / "tenancy" / "admission.md").read_text(encoding="utf-8")
    table = page.split("**The limits**", 1)[1].split("\n\n**", 1)[0]
    assert f"| `{alias}`" in table
