"""The generated CRD: fresh on disk, copied into the chart, structural, and consistent."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.samples import REPO
from kron.api import ScheduledTask
from kron.api import constants as c
from kron.api.crd import (
    API_REFERENCE_PATH,
    CHART_CRD_PATH,
    CRD_PATH,
    HEADER,
    build_crd,
    main,
    render_api_reference,
    render_crd,
    status_schema,
)
from kron.api.reference import END_MARKER, START_MARKER
from kron.api.schema import SchemaError, to_structural


def _version() -> dict[str, Any]:
    (version,) = build_crd()["spec"]["versions"]
    return dict(version)


def _schema() -> dict[str, Any]:
    return dict(_version()["schema"]["openAPIV3Schema"])


def _nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{name}")
    if "items" in node:
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}.*")


# --- generated files are fresh -------------------------------------------------------------


def test_crd_on_disk_is_what_the_models_generate() -> None:
    on_disk = (REPO / CRD_PATH).read_text(encoding="utf-8")
    assert on_disk == render_crd(), "crds/ is stale: run `make manifests`"


def test_chart_crd_is_identical_to_crds() -> None:
    chart = (REPO / CHART_CRD_PATH).read_bytes()
    assert chart == (REPO / CRD_PATH).read_bytes(), "chart CRD differs: run `make manifests`"


def test_api_reference_page_is_what_the_models_generate() -> None:
    page = (REPO / API_REFERENCE_PATH).read_text(encoding="utf-8")
    assert page == render_api_reference(page), "API reference is stale: run `make manifests`"


def test_generated_crd_starts_with_do_not_edit_naming_the_command() -> None:
    text = render_crd()
    assert text.startswith(HEADER)
    assert "DO NOT EDIT" in HEADER
    assert "make manifests" in HEADER
    assert "python -m kron.api.crd --write" in HEADER


def test_generation_is_deterministic() -> None:
    assert render_crd() == render_crd()
    assert yaml.safe_load(render_crd()) == build_crd()


# --- the CRD's identity ----------------------------------------------------------------------


def test_names_scope_and_version() -> None:
    crd = build_crd()
    assert crd["metadata"]["name"] == c.CRD_NAME == "scheduledtasks.kron.dev"
    spec = crd["spec"]
    assert spec["group"] == "kron.dev"
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": "ScheduledTask",
        "listKind": "ScheduledTaskList",
        "plural": "scheduledtasks",
        "singular": "scheduledtask",
        "shortNames": ["stask"],
        "categories": ["kron"],
    }
    version = _version()
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_model_api_version_and_kind_match_the_constants() -> None:
    task = ScheduledTask.model_fields
    assert task["api_version"].default == c.API_VERSION
    assert task["kind"].default == c.KIND


def test_printer_columns_are_the_documented_ones_and_point_at_real_fields() -> None:
    columns = _version()["additionalPrinterColumns"]
    default = [col["name"].upper() for col in columns if col.get("priority", 0) == 0]
    assert default == [
        "SCHEDULE",
        "TIMEZONE",
        "SUSPEND",
        "ACTIVE",
        "LAST SCHEDULE",
        "NEXT",
        "READY",
        "AGE",
    ]
    paths = {path for path, _ in _nodes(_schema())} | {".metadata.creationTimestamp"}
    for column in columns:
        path = re.sub(r"\[\?\(.*?\)\]", "[]", column["jsonPath"])
        assert path in paths, column


# --- the schema is structural ----------------------------------------------------------------


def test_schema_has_no_constructs_a_structural_schema_forbids() -> None:
    forbidden = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "const", "title", "readOnly"}
    for path, node in _nodes(_schema()):
        assert not forbidden & node.keys(), (path, forbidden & node.keys())
        assert "type" in node, path
        assert node.get("additionalProperties") is not False, path
        if node["type"] == "object" and "properties" in node:
            assert "additionalProperties" not in node, path


def test_every_field_has_a_description() -> None:
    for path, node in _nodes(_schema()):
        if path.endswith(("[]", ".*")) or path in ("", ".metadata", ".metadata.name"):
            continue  # list items and map values are described by their field; metadata by k8s
        assert node.get("description"), f"{path} has no description"


def test_times_are_date_time_strings() -> None:
    schema = _schema()
    for path, node in _nodes(schema):
        if path.endswith(("Time", "Times[]", "Timestamp", "Cursor")):
            assert (node["type"], node.get("format")) == ("string", "date-time"), path


def test_status_has_no_defaults_and_spec_defaults_match_the_models() -> None:
    schema = _schema()
    assert not [p for p, n in _nodes(schema["properties"]["status"]) if "default" in n]
    spec = schema["properties"]["spec"]["properties"]
    minimal = ScheduledTask.from_api(
        {
            "metadata": {"name": "x"},
            "spec": {
                "schedule": "@daily",
                "podTemplate": {"spec": {"containers": [{}]}},
                "retryPolicy": {},
            },
        }
    ).spec.to_api()
    defaults = {name: node["default"] for name, node in spec.items() if "default" in node}
    assert defaults == {k: minimal[k] for k in defaults}
    assert set(defaults) == {
        "timeZone",
        "jitterSeconds",
        "suspend",
        "concurrencyPolicy",
        "catchUpPolicy",
        "successfulRunsHistoryLimit",
        "failedRunsHistoryLimit",
    }
    retry = spec["retryPolicy"]["properties"]
    backoff = retry["backoff"]["properties"]
    assert {k: v["default"] for k, v in backoff.items()} == minimal["retryPolicy"]["backoff"]
    assert retry["maxRetries"]["default"] == minimal["retryPolicy"]["maxRetries"]


def test_conditions_are_a_map_list_keyed_by_type() -> None:
    conditions = _schema()["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert "type" in conditions["items"]["required"]


def test_templates_are_free_form_but_declare_restart_policy_and_containers() -> None:
    spec = _schema()["properties"]["spec"]["properties"]
    job_spec = spec["jobTemplate"]["properties"]["spec"]
    pod_spec = spec["podTemplate"]["properties"]["spec"]
    job_pod_spec = job_spec["properties"]["template"]["properties"]["spec"]
    for node in (job_spec, pod_spec, job_pod_spec):
        assert node["x-kubernetes-preserve-unknown-fields"] is True
    for node in (pod_spec, job_pod_spec):
        assert node["properties"]["restartPolicy"]["enum"] == ["Never", "OnFailure"]
        assert node["required"] == ["containers"]
        assert node["properties"]["containers"]["minItems"] == 1


def test_every_cel_rule_has_a_message_and_bounded_input() -> None:
    # The API server estimates each rule's cost from maxLength/maxItems; unbounded
    # strings or lists under a rule make the CRD fail to apply.
    rules = [(p, n) for p, n in _nodes(_schema()) if "x-kubernetes-validations" in n]
    assert {p for p, _ in rules} >= {
        "",
        ".spec",
        ".spec.schedule",
        ".spec.schedules[]",
        ".spec.excludeSchedules[]",
        ".spec.retryPolicy.backoff",
    }
    for path, node in rules:
        for rule in node["x-kubernetes-validations"]:
            assert rule["message"] and rule["rule"], path
        if node["type"] == "string":
            assert node["maxLength"] <= c.MAX_EXPRESSION_LENGTH, path
    spec = _schema()["properties"]["spec"]["properties"]
    assert spec["schedules"]["maxItems"] == c.MAX_SCHEDULES
    assert spec["excludeSchedules"]["maxItems"] == c.MAX_EXCLUDE_SCHEDULES


def test_root_rule_limits_the_task_name() -> None:
    (rule,) = _schema()["x-kubernetes-validations"]
    assert rule["rule"] == f"size(self.metadata.name) <= {c.MAX_TASK_NAME_LENGTH}"
    assert rule["fieldPath"] == ".metadata.name"


# --- the JSON schema rewriter ----------------------------------------------------------------


def test_rewriter_inlines_references_and_drops_null() -> None:
    schema = {
        "$defs": {"B": {"type": "object", "title": "B", "properties": {"x": {"type": "integer"}}}},
        "type": "object",
        "properties": {
            "b": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}], "default": None},
            "c": {"const": "only", "type": "string"},
            "d": {"type": "number", "exclusiveMinimum": 0},
            "e": {"type": "object", "additionalProperties": True},
        },
        "required": ["d", "c"],
    }
    assert to_structural(schema) == {
        "type": "object",
        "properties": {
            "b": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "c": {"enum": ["only"], "type": "string"},
            "d": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "e": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "required": ["c", "d"],
    }


@pytest.mark.parametrize(
    "schema",
    [
        {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        {"$ref": "#/$defs/Missing"},
        {"oneOf": [{"type": "string"}]},
        {"description": "no type"},
    ],
)
def test_rewriter_refuses_what_a_crd_cannot_express(schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaError):
        to_structural(schema)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    (tmp_path / "crds").mkdir()
    (tmp_path / API_REFERENCE_PATH).parent.mkdir(parents=True)
    shutil.copy(REPO / API_REFERENCE_PATH, tmp_path / API_REFERENCE_PATH)
    return tmp_path


def test_cli_without_flags_prints_the_crd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == render_crd()


def test_cli_check_fails_on_drift_and_write_repairs_it(repo_copy: Path) -> None:
    assert main(["--check", "--root", str(repo_copy)]) == 1  # nothing generated yet
    assert main(["--write", "--root", str(repo_copy)]) == 0
    assert main(["--check", "--root", str(repo_copy)]) == 0
    assert (repo_copy / CHART_CRD_PATH).read_text(encoding="utf-8") == render_crd()

    crd = repo_copy / CRD_PATH
    crd.write_text(crd.read_text(encoding="utf-8").replace("stask", "st"), encoding="utf-8")
    assert main(["--check", "--root", str(repo_copy)]) == 1

    readme = repo_copy / API_REFERENCE_PATH
    main(["--write", "--root", str(repo_copy)])
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("| `suspend` |", "| `suspended` |"), encoding="utf-8")
    assert main(["--check", "--root", str(repo_copy)]) == 1
    readme.write_text(text + "\nHand-written text after the section.\n", encoding="utf-8")
    assert main(["--check", "--root", str(repo_copy)]) == 0  # outside the markers is free


def test_cli_fails_clearly_without_the_page_markers(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = repo_copy / API_REFERENCE_PATH
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace(START_MARKER, "").replace(END_MARKER, ""), encoding="utf-8")
    assert main(["--write", "--root", str(repo_copy)]) == 1
    assert "api-reference:start" in capsys.readouterr().err


def test_cli_refuses_a_directory_that_is_not_the_repository(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--write", "--root", str(tmp_path)])
    assert exited.value.code == 2


def test_status_schema_requires_no_field_so_partial_status_patches_are_accepted() -> None:
    # activeCount is computed by the models; the API server must not demand it in a patch.
    assert "required" not in status_schema()
