"""The generated CRD on a real API server: accepted, rejects what the models reject with a
message naming the field, admits every valid form, defaults like the models, and agrees
with kron.schedule on schedule expressions."""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from contract.corpus import INVALID_EXPRESSIONS, LENIENT_EXPRESSIONS, VALID_EXPRESSIONS
from contract.samples import (
    BAD,
    FULL_STATUS,
    REFUSED_AT_ADMISSION,
    VALID,
    Bad,
    repository_samples,
    task,
)
from kron.api import ScheduledTask, ScheduledTaskStatus, cel
from kron.api.constants import (
    CALENDAR_CRD_NAME,
    CRD_NAME,
    MAX_EXCLUDE_SCHEDULES,
    MAX_EXPRESSION_LENGTH,
    MAX_SCHEDULES,
)
from kron.api.crd import render_operator_crds
from kron.schedule import ScheduleError, parse_expression
from support.cluster import ClusterHandle
from support.wait import wait_until

pytestmark = pytest.mark.cluster

MANAGER = "kron-contract-tests"


@pytest.fixture(scope="module")
def crd(cluster: ClusterHandle) -> str:
    """The CRD applied (server-side) and Established."""
    cluster.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        f"--field-manager={MANAGER}",
        "-f",
        "-",
        input=render_operator_crds(),
    )
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        f"crd/{CRD_NAME}",
        f"crd/{CALENDAR_CRD_NAME}",
        "--timeout=60s",
    )
    return CRD_NAME


@pytest.fixture(scope="module")
def scratch(cluster: ClusterHandle, crd: str) -> Iterator[str]:
    """One namespace for the dry-run checks of this module (they create nothing)."""
    name = f"t-crd-contract-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def _list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def _dry_run(cluster: ClusterHandle, namespace: str, obj: dict[str, Any]) -> str:
    """Create ``obj`` in dry-run mode; the API server's complaint ('' when admitted)."""
    result = cluster.kubectl(
        "create",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps(obj),
        check=False,
    )
    return result.stderr if result.returncode else ""


def test_crd_is_accepted_and_established(cluster: ClusterHandle, crd: str) -> None:
    got = json.loads(cluster.kubectl("get", "crd", crd, "-o", "json").stdout)
    assert got["spec"]["names"]["shortNames"] == ["stask"]
    established = [c for c in got["status"]["conditions"] if c["type"] == "Established"]
    assert established[0]["status"] == "True"


@pytest.mark.parametrize("bad", BAD + REFUSED_AT_ADMISSION, ids=lambda bad: bad.name)
def test_invalid_object_is_rejected_naming_the_field(
    cluster: ClusterHandle, scratch: str, bad: Bad
) -> None:
    complaint = _dry_run(cluster, scratch, bad.build())
    assert complaint, "admitted"
    lines = complaint.splitlines()
    assert any(
        (f"{bad.field}: " in line or f'"{bad.field}"' in line) and bad.says in line
        for line in lines
    ), complaint


def test_every_valid_form_is_admitted_and_defaulted_like_the_models(
    cluster: ClusterHandle, namespace: str, crd: str
) -> None:
    samples = {**VALID, **repository_samples()}
    items = []
    for sample in samples.values():
        obj = copy.deepcopy(sample)
        obj["metadata"] = {"name": obj["metadata"]["name"], "namespace": namespace}
        items.append(obj)
    cluster.kubectl(
        "apply", "--server-side", f"--field-manager={MANAGER}", "-f", "-", input=_list(items)
    )
    stored = json.loads(cluster.kubectl("get", "stask", "-n", namespace, "-o", "json").stdout)
    assert len(stored["items"]) == len(items)
    for obj in stored["items"]:
        model = ScheduledTask.from_api(obj)
        # The server's defaults are the models' defaults, and nothing is pruned.
        assert obj["spec"] == model.spec.to_api(), obj["metadata"]["name"]


def test_minimal_object_gets_every_default(
    cluster: ClusterHandle, namespace: str, crd: str
) -> None:
    obj = task("minimal", retryPolicy={})
    obj["metadata"]["namespace"] = namespace
    cluster.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(obj))
    spec = json.loads(
        cluster.kubectl("get", "stask", "minimal", "-n", namespace, "-o", "json").stdout
    )["spec"]
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["catchUpPolicy"] == "Latest"
    assert spec["timeZone"] == "UTC"
    assert (spec["suspend"], spec["jitterSeconds"]) == (False, 0)
    assert (spec["successfulRunsHistoryLimit"], spec["failedRunsHistoryLimit"]) == (3, 1)
    assert spec["retryPolicy"] == {
        "maxRetries": 3,
        "stopAtNextSchedule": True,
        "backoff": {"initialSeconds": 10, "maxSeconds": 3600, "multiplier": 2},
    }


def test_status_written_from_the_models_is_stored_and_printed(
    cluster: ClusterHandle, namespace: str, crd: str
) -> None:
    obj = task("printed")
    obj["metadata"]["namespace"] = namespace
    cluster.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(obj))
    status = ScheduledTaskStatus.from_api(FULL_STATUS).to_api()
    patch = json.dumps({"status": {**status, "fromTheFuture": True}})
    cluster.kubectl(
        "patch",
        "stask",
        "printed",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        patch,
    )
    stored = json.loads(
        cluster.kubectl("get", "stask", "printed", "-n", namespace, "-o", "json").stdout
    )
    assert stored["status"] == status  # unknown fields pruned, nothing else lost
    table = cluster.kubectl("get", "stask", "printed", "-n", namespace, "-o", "wide").stdout
    header, row = table.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "NAME",
        "SCHEDULE",
        "TIMEZONE",
        "SUSPEND",
        "ACTIVE",
        "LAST SCHEDULE",
        "NEXT",
        "READY",
        "AGE",
        "REASON",
        "CONCURRENCY",
        "FAILURES",
        "OVERDUE",
    ]
    assert row.rstrip().endswith("False")  # the Overdue condition's status
    for cell in ("0 * * * *", "UTC", "false", "2030-01-01T13:00:00Z", "True", "Scheduled", "Allow"):
        assert cell in row, (cell, row)


def test_kubectl_explain_shows_the_model_descriptions(cluster: ClusterHandle, crd: str) -> None:
    def explained() -> str:
        result = cluster.kubectl("explain", "stask.spec.concurrencyPolicy", check=False)
        return result.stdout if result.returncode == 0 else ""

    text = wait_until(explained, timeout=60, message="CRD published in OpenAPI")
    assert "Queue keeps at most one pending tick" in " ".join(text.split())


def _python_accepts(text: str) -> bool:
    try:
        parse_expression(text)
    except ScheduleError:
        return False
    return True


def test_server_agrees_with_the_admission_emulation_and_is_never_stricter_than_kron_schedule(
    cluster: ClusterHandle, scratch: str
) -> None:
    corpus = [*VALID_EXPRESSIONS, *INVALID_EXPRESSIONS, *LENIENT_EXPRESSIONS]
    corpus = [text for text in corpus if text.strip()]  # "" fails minLength, not a rule
    items = []
    for index, text in enumerate(corpus):
        obj = task(f"agree-{index}", schedule=text)
        obj["metadata"]["namespace"] = scratch
        items.append(obj)
    result = cluster.kubectl(
        "create", "--dry-run=server", "-f", "-", input=_list(items), check=False, timeout=120
    )
    rejected = {int(i) for i in re.findall(r'"agree-(\d+)" is invalid', result.stderr)}
    admitted = {
        int(i) for i in re.findall(r"agree-(\d+) created \(server dry run\)", result.stdout)
    }
    assert rejected | admitted == set(range(len(corpus))), result.stderr
    server = {corpus[i]: i not in rejected for i in range(len(corpus))}
    emulated = {text: not cel.admission_problems(text) for text in corpus}
    assert server == emulated
    stricter = [text for text, ok in server.items() if not ok and _python_accepts(text)]
    assert stricter == []


def test_largest_object_stays_within_the_cel_cost_budget(
    cluster: ClusterHandle, scratch: str
) -> None:
    # 32 expressions of maximal length run every regex at its most expensive; the API
    # server refuses the whole object if the rules' runtime cost exceeds its budget.
    field = ",".join(["1-5/2"] * 8)
    longest = " ".join([field] * 6)
    longest = longest[: longest.rfind(",", 0, MAX_EXPRESSION_LENGTH)]
    assert MAX_EXPRESSION_LENGTH - 6 < len(longest) <= MAX_EXPRESSION_LENGTH
    assert _python_accepts(longest)
    obj = task(
        "largest",
        schedule=None,
        schedules=[longest] * MAX_SCHEDULES,
        excludeSchedules=[longest] * MAX_EXCLUDE_SCHEDULES,
    )
    assert _dry_run(cluster, scratch, obj) == ""
