"""The shipped Argo CD health check, run by a real Lua interpreter on statuses the
planner produces: GitOps users see Failed/Suspended/Healthy as kron means them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa
import pytest

from kron.api import ScheduledTaskStatus
from kron.planner import invalid_plan, plan
from support.planning import T0, run, spec, task

SCRIPT = Path(__file__).parents[3] / "hack" / "argocd" / "scheduledtask-health.lua"


def health(obj: dict[str, Any]) -> tuple[str, str]:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT.read_text())
    return str(result["status"]), str(result["message"])


def task_object(status: ScheduledTaskStatus | None, generation: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "t", "generation": generation}}
    if status is not None:
        obj["status"] = status.to_api()
    return obj


def test_a_task_kron_has_not_seen_is_progressing() -> None:
    assert health(task_object(None))[0] == "Progressing"


def test_a_scheduled_task_is_healthy() -> None:
    status = plan(task(spec()), T0 + 0.1).status
    assert health(task_object(status)) == (
        "Healthy",
        "schedule is valid; the next fire time is in status.nextScheduleTime",
    )


def test_a_spec_not_observed_yet_is_progressing() -> None:
    status = plan(task(spec()), T0 + 0.1).status
    assert health(task_object(status, generation=2))[0] == "Progressing"


def test_a_suspended_task_is_suspended() -> None:
    status = plan(task(spec(suspend=True)), T0 + 0.1).status
    assert health(task_object(status))[0] == "Suspended"


@pytest.mark.parametrize("reason", ["InvalidSchedule", "InvalidTimeZone", "InvalidSpec"])
def test_an_unusable_spec_is_degraded_with_its_reason(reason: str) -> None:
    status = invalid_plan(ScheduledTaskStatus(), 1, reason, "spec.x: bad", T0).status
    assert health(task_object(status)) == ("Degraded", f"{reason}: spec.x: bad")


def test_too_many_failures_is_degraded() -> None:
    s = spec(suspendAfterFailures=1)
    first = plan(task(s), T0 + 0.1).status
    failed = run(f"report-{T0}", T0, phase="Failed", finished=T0 + 1)
    status = plan(task(s, status=first, runs=(failed,)), T0 + 1.1).status
    assert health(task_object(status))[0] == "Degraded"
