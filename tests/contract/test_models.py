"""The pydantic models: parsing, defaults, serialisation and errors that name the field."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contract.samples import (
    BAD,
    FULL_STATUS,
    REFUSED_AT_ADMISSION,
    VALID,
    Bad,
    repository_samples,
    task,
)
from kron.api import (
    Backoff,
    CatchUpPolicy,
    ConcurrencyPolicy,
    Condition,
    ConditionStatus,
    HistoryEntry,
    PendingReason,
    PendingRun,
    RunKind,
    RunResult,
    ScheduledTask,
    ScheduledTaskSpec,
    ScheduledTaskStatus,
    Trigger,
    field_errors,
)


def _is_subset(small: Any, big: Any) -> bool:
    """Every key and value of ``small`` appears in ``big`` (lists compared item by item)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            key in big and _is_subset(value, big[key]) for key, value in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(small) == len(big)
            and all(_is_subset(a, b) for a, b in zip(small, big, strict=True))
        )
    return bool(small == big)


def _errors(obj: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ScheduledTask.from_api(obj)
    return [str(problem) for problem in field_errors(caught.value)]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_sample_parses_and_keeps_every_field(name: str) -> None:
    sample = VALID[name]
    parsed = ScheduledTask.from_api(copy.deepcopy(sample))
    dumped = parsed.to_api()
    assert _is_subset(_normalised_times(sample), dumped)
    assert ScheduledTask.from_api(dumped) == parsed


def _normalised_times(obj: dict[str, Any]) -> dict[str, Any]:
    # The only rewrite allowed: times come back in UTC with Z.
    obj = copy.deepcopy(obj)
    if obj["spec"].get("schedule", "").startswith("@at"):
        return obj
    for key in ("startTime", "endTime"):
        if key in obj["spec"]:
            obj["spec"][key] = obj["spec"][key].replace("+00:00", "Z")
    return obj


def test_repository_samples_parse() -> None:
    for name, sample in repository_samples().items():
        try:
            ScheduledTask.from_api(sample)
        except ValidationError as exc:
            pytest.fail(f"crds/samples {name}: {[str(e) for e in field_errors(exc)]}")


@pytest.mark.parametrize("bad", BAD, ids=lambda bad: bad.name)
def test_invalid_object_is_rejected_naming_the_field(bad: Bad) -> None:
    problems = _errors(bad.build())
    fragment = bad.model_says or bad.says
    assert any(
        problem.startswith(f"{bad.field}: ") and fragment in problem for problem in problems
    ), problems


def test_defaults_are_those_of_the_api() -> None:
    spec = ScheduledTask.from_api(task()).spec
    assert spec.time_zone == "UTC"
    assert spec.concurrency_policy is ConcurrencyPolicy.ALLOW
    assert spec.catch_up_policy is CatchUpPolicy.LATEST
    assert (spec.jitter_seconds, spec.suspend) == (0, False)
    assert (spec.successful_runs_history_limit, spec.failed_runs_history_limit) == (3, 1)
    assert spec.retry_policy is None
    assert spec.starting_deadline_seconds is None


def test_empty_retry_policy_means_three_retries_with_default_backoff() -> None:
    spec = ScheduledTask.from_api(task(retryPolicy={})).spec
    assert spec.retry_policy is not None
    assert spec.retry_policy.max_retries == 3
    assert spec.retry_policy.backoff == Backoff(initial_seconds=10, max_seconds=3600, multiplier=2)
    assert spec.retry_policy.stop_at_next_schedule is True


def test_backoff_grows_by_the_multiplier_up_to_the_cap() -> None:
    backoff = Backoff(initial_seconds=10, max_seconds=60, multiplier=2)
    assert [backoff.delay_seconds(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_serialisation_omits_unset_fields_and_uses_camel_case() -> None:
    dumped = ScheduledTask.from_api(task()).to_api()
    spec = dumped["spec"]
    assert "schedules" not in spec
    assert "startTime" not in spec
    assert "podTemplate" not in spec
    assert spec["concurrencyPolicy"] == "Allow"
    assert "status" not in dumped
    assert None not in _all_values(dumped)


def _all_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _all_values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _all_values(item)]
    return [value]


def test_times_are_written_in_utc_with_z() -> None:
    spec = ScheduledTask.from_api(
        task(startTime="2030-01-01T09:00:00+01:00", endTime="2030-06-01T00:00:00.5-02:30")
    ).spec
    assert spec.start_time == datetime(2030, 1, 1, 8, tzinfo=UTC)
    dumped = spec.to_api()
    assert dumped["startTime"] == "2030-01-01T08:00:00Z"
    assert dumped["endTime"] == "2030-06-01T02:30:00.500000Z"


def test_a_time_without_offset_is_rejected() -> None:
    problems = _errors(task(startTime="2030-01-01T09:00:00"))
    assert any(p.startswith("spec.startTime: ") and "offset" in p for p in problems), problems


def test_python_names_and_aliases_both_construct() -> None:
    by_alias = Backoff.model_validate({"initialSeconds": 5})
    by_name = Backoff(initial_seconds=5)
    assert by_alias == by_name


def test_convenience_accessors() -> None:
    one = ScheduledTask.from_api(VALID["five-fields"]).spec
    assert one.expressions == ["0 3 * * *"]
    assert one.kind is RunKind.JOB
    assert one.template is one.job_template
    assert one.schedule_summary() == "0 3 * * *"
    many = ScheduledTask.from_api(VALID["everything"]).spec
    assert many.expressions == ["0 9 * * MON-FRI", "30 17 * * 1-5", "@hourly"]
    assert many.schedule_summary() == "0 9 * * MON-FRI (+2 more)"
    pod = ScheduledTask.from_api(VALID["six-fields-pod"]).spec
    assert pod.kind is RunKind.POD
    assert pod.template.pod_spec["containers"][0]["name"] == "main"


def test_unknown_time_zone_is_an_invalid_time_zone_error() -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduledTask.from_api(task(timeZone="Mars/Olympus_Mons"))
    (problem,) = field_errors(caught.value)
    assert problem.path == "spec.timeZone"
    assert problem.type == "invalid_time_zone"
    assert "Mars/Olympus_Mons" in problem.message


def test_schedule_error_carries_the_engine_message_and_type() -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduledTask.from_api(task(schedule="0 0 30 2 *"))
    (problem,) = field_errors(caught.value)
    assert problem.path == "spec.schedule"
    assert problem.type == "invalid_schedule"
    assert "never fires" in problem.message


def test_spec_refuses_unknown_fields_at_every_level() -> None:
    problems = _errors(task(retryPolicy={"maxRetrys": 2}))
    assert any(p.startswith("spec.retryPolicy.maxRetrys: ") for p in problems), problems


def test_enum_values_are_the_api_strings() -> None:
    assert CatchUpPolicy.NONE == "None"
    assert Trigger.CATCH_UP == "catch-up"
    assert [r.value for r in RunResult] == ["Succeeded", "Failed", "Missed", "Skipped", "Excluded"]
    assert ConditionStatus.UNKNOWN == "Unknown"


# --- status -------------------------------------------------------------------------------

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_full_status_round_trips_exactly() -> None:
    status = ScheduledTaskStatus.from_api(FULL_STATUS)
    assert status.to_api() == FULL_STATUS
    assert status.pending[0].reason is PendingReason.RETRY
    assert status.history[0].result is RunResult.MISSED


def test_status_ignores_fields_it_does_not_know() -> None:
    newer = {**FULL_STATUS, "shardKey": 7, "counts": {**FULL_STATUS["counts"], "timedOut": 2}}
    assert ScheduledTaskStatus.from_api(newer) == ScheduledTaskStatus.from_api(FULL_STATUS)


def test_active_count_follows_active_and_ignores_what_was_stored() -> None:
    stale = {**FULL_STATUS, "activeCount": 9}
    status = ScheduledTaskStatus.from_api(stale)
    assert status.active_count == 1
    status.active = []
    assert status.to_api()["activeCount"] == 0


def test_empty_status_serialises_small() -> None:
    assert ScheduledTaskStatus().to_api() == {
        "conditions": [],
        "upcomingScheduleTimes": [],
        "consecutiveFailures": 0,
        "active": [],
        "pending": [],
        "history": [],
        "counts": {
            "fired": 0,
            "succeeded": 0,
            "failed": 0,
            "retried": 0,
            "missed": 0,
            "skipped": 0,
            "excluded": 0,
        },
        "handledRequests": {},
        "activeCount": 0,
    }


def test_history_is_bounded() -> None:
    entry = HistoryEntry(scheduled_time=NOW, trigger=Trigger.SCHEDULE, result=RunResult.SKIPPED)
    with pytest.raises(ValidationError) as caught:
        ScheduledTaskStatus(history=[entry] * 11)
    assert [e.path for e in field_errors(caught.value)] == ["history"]


def test_task_parses_status_and_metadata_from_the_api_server() -> None:
    obj = task("nightly")
    obj["metadata"].update(
        namespace="ops",
        uid="1234",
        generation=4,
        resourceVersion="99",
        creationTimestamp="2029-12-01T00:00:00Z",
        managedFields=[{"manager": "kubectl"}],
        annotations={"kron.dev/run-now": "x"},
    )
    obj["status"] = FULL_STATUS
    parsed = ScheduledTask.from_api(obj)
    assert parsed.metadata.namespace == "ops"
    assert parsed.metadata.generation == 4
    assert parsed.metadata.annotations == {"kron.dev/run-now": "x"}
    assert parsed.status is not None
    assert parsed.status.active[0].kind is RunKind.JOB


_instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)


@given(
    times=st.lists(_instants, max_size=5),
    failures=st.integers(min_value=0, max_value=10**6),
    reason=st.text(max_size=20),
    result=st.sampled_from(RunResult),
    trigger=st.sampled_from(Trigger),
)
def test_status_round_trips_through_the_api_form(
    times: list[datetime], failures: int, reason: str, result: RunResult, trigger: Trigger
) -> None:
    status = ScheduledTaskStatus(
        upcoming_schedule_times=times,
        consecutive_failures=failures,
        conditions=[Condition(type="Ready", status=ConditionStatus.FALSE, reason=reason)],
        history=[HistoryEntry(scheduled_time=t, trigger=trigger, result=result) for t in times],
        pending=[
            PendingRun(scheduled_time=t, trigger=trigger, reason=PendingReason.QUEUED)
            for t in times[:1]
        ],
    )
    again = ScheduledTaskStatus.from_api(status.to_api())
    assert again == status
    assert all(t.tzinfo is UTC for t in again.upcoming_schedule_times)


def test_spec_model_is_constructible_from_python_names() -> None:
    spec = ScheduledTaskSpec(
        schedule="@hourly",
        pod_template={"spec": {"containers": [{"name": "a", "image": "b"}]}},  # type: ignore[arg-type]
    )
    assert spec.kind is RunKind.POD


@pytest.mark.parametrize("bad", REFUSED_AT_ADMISSION, ids=lambda bad: bad.name)
def test_kron_keys_in_templates_are_left_to_admission_and_stripping(bad: Bad) -> None:
    """Objects admitted before the CEL rule still load: their runs leave the keys out."""
    assert ScheduledTask.from_api(bad.build()).spec.template is not None


@pytest.mark.parametrize(
    "instant", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z"]
)
def test_instants_the_api_server_admits_at_the_ends_of_time_saturate(instant: str) -> None:
    spec = ScheduledTask.from_api(task(startTime=instant)).spec
    assert spec.start_time is not None and spec.start_time.tzinfo is not None


@pytest.mark.parametrize("depth", [33, 200, 5000])
def test_templates_nested_too_deep_are_invalid_whatever_the_depth(depth: int) -> None:
    inner: dict[str, Any] = {}
    node = inner
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    obj = task()
    obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["x"] = inner
    assert _errors(obj) == ["spec.jobTemplate.spec: nested deeper than 32 levels"]


def test_huge_templates_are_invalid() -> None:
    obj = task()
    obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"] = [
        "x" * 1000
    ] * 300
    (problem,) = _errors(obj)
    assert (
        problem.startswith("spec.jobTemplate.spec: ") and "more than the 262144 allowed" in problem
    )


def test_backoff_saturates_at_max_seconds_without_overflow() -> None:
    backoff = Backoff(initial_seconds=31622400, max_seconds=31622400, multiplier=100.0)
    assert backoff.delay_seconds(100) == 31622400
    assert Backoff(initial_seconds=1, max_seconds=3600, multiplier=100.0).delay_seconds(100) == 3600
