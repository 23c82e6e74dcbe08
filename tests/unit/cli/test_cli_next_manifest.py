"""`kron next -f`: a whole ScheduledTask manifest, as the operator would fire it."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import Cli

Obj = dict[str, Any]

JOB_TEMPLATE: Obj = {
    "spec": {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
        }
    }
}


def manifest(**spec: Any) -> Obj:
    body: Obj = {"schedule": "0 3 * * *", "jobTemplate": copy.deepcopy(JOB_TEMPLATE), **spec}
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "ScheduledTask",
        "metadata": {"name": "nightly"},
        "spec": {key: value for key, value in body.items() if value is not None},
    }


def write(tmp_path: Path, *docs: Any, name: str = "task.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return str(path)


def seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_union_of_schedules_in_the_task_zone(kron: Cli, tmp_path: Path) -> None:
    task = manifest(
        schedule=None,
        schedules=["0 9 * * MON-FRI", "0 12 * * SAT", "0 9 * * FRI"],
        timeZone="Europe/Berlin",
    )
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-01-02T00:00:00Z", "-n", "3")
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        "2026-01-02T09:00:00+01:00",
        "2026-01-03T12:00:00+01:00",
        "2026-01-05T09:00:00+01:00",
    ]


def test_window_bounds_are_inclusive_and_end_the_list(kron: Cli, tmp_path: Path) -> None:
    task = manifest(
        schedule="0 * * * *", startTime="2026-01-01T02:30:00Z", endTime="2026-01-01T05:00:00Z"
    )
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-01-01T00:00:00Z")
    assert result.code == 0
    assert result.lines == [
        "2026-01-01T03:00:00+00:00",
        "2026-01-01T04:00:00+00:00",
        "2026-01-01T05:00:00+00:00",
    ]


def test_after_the_window_nothing_is_listed(kron: Cli, tmp_path: Path) -> None:
    task = manifest(endTime="2026-01-01T05:00:00Z")
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-02-01T00:00:00Z")
    assert (result.code, result.out) == (0, "")
    assert "no fire times after" in result.err


def test_excluded_ticks_are_left_out(kron: Cli, tmp_path: Path) -> None:
    task = manifest(excludeSchedules=["* * 25 12 *"])
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-12-23T12:00:00Z", "-n", "3")
    assert result.lines == [
        "2026-12-24T03:00:00+00:00",
        "2026-12-26T03:00:00+00:00",
        "2026-12-27T03:00:00+00:00",
    ]


def test_show_excluded_marks_them_instead(kron: Cli, tmp_path: Path) -> None:
    task = manifest(excludeSchedules=["* * 25 12 *"])
    path = write(tmp_path, task)
    result = kron(
        "next", "-f", path, "--after", "2026-12-23T12:00:00Z", "-n", "3", "--show-excluded"
    )
    assert result.lines == [
        "2026-12-24T03:00:00+00:00",
        "2026-12-25T03:00:00+00:00  excluded",
        "2026-12-26T03:00:00+00:00",
    ]


def test_jitter_uses_the_manifest_uid(kron: Cli, tmp_path: Path) -> None:
    task = manifest(schedule="0 * * * *", jitterSeconds=600)
    task["metadata"]["uid"] = "4a0c3f1e-0000-4000-8000-000000000001"
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-01-01T00:00:00Z", "-n", "5")
    assert (result.code, result.err) == (0, "")
    fires = [seconds(line) for line in result.lines]
    nominals = [seconds(f"2026-01-01T{h:02d}:00:00+00:00") for h in range(1, 6)]
    assert all(0 <= f - n < 600 for f, n in zip(fires, nominals, strict=True))
    assert any(f != n for f, n in zip(fires, nominals, strict=True))
    assert all(len(line) == len("2026-01-01T01:00:00.000+00:00") for line in result.lines)


def test_jitter_longer_than_the_interval_spreads_over_the_interval(
    kron: Cli, tmp_path: Path
) -> None:
    # Every minute with up to an hour of jitter: each fire lands anywhere in its own
    # minute (the hash reduced modulo the interval), not piled 1 ms before the next.
    task = manifest(schedule="* * * * *", jitterSeconds=3600)
    task["metadata"]["uid"] = "4a0c3f1e-0000-4000-8000-000000000002"
    result = kron(
        "next", "-f", write(tmp_path, task), "--after", "2026-01-01T00:00:00Z", "-n", "40"
    )
    assert (result.code, result.err) == (0, "")
    delays = [
        seconds(line) - seconds(f"2026-01-01T00:{minute:02d}:00+00:00")
        for minute, line in enumerate(result.lines, start=1)
    ]
    assert all(0 <= delay < 60 for delay in delays)
    assert sum(delay >= 59.9 for delay in delays) < 5
    assert min(delays) < 20 and max(delays) > 40


def test_month_dependent_forms_in_a_manifest(kron: Cli, tmp_path: Path) -> None:
    task = manifest(
        schedule=None,
        schedules=["0 18 LW * *", "0 9 ? * MON#1"],
        timeZone="America/Chicago",
        excludeSchedules=["* * 1-7 1 *"],  # not in the first week of January
    )
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-01-01T00:00:00Z", "-n", "4")
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        "2026-01-30T18:00:00-06:00",
        "2026-02-02T09:00:00-06:00",
        "2026-02-27T18:00:00-06:00",
        "2026-03-02T09:00:00-06:00",
    ]


def test_jitter_depends_on_the_uid_and_uid_flag_overrides(kron: Cli, tmp_path: Path) -> None:
    task = manifest(schedule="0 * * * *", jitterSeconds=3000)
    task["metadata"]["uid"] = "uid-one"
    with_one = write(tmp_path, task, name="one.yaml")
    task["metadata"]["uid"] = "uid-two"
    with_two = write(tmp_path, task, name="two.yaml")
    after = ["--after", "2026-01-01T00:00:00Z", "-n", "5"]
    one = kron("next", "-f", with_one, *after).lines
    two = kron("next", "-f", with_two, *after).lines
    assert one != two
    assert kron("next", "-f", with_two, "--uid", "uid-one", *after).lines == one


def test_jitter_without_uid_lists_nominal_times_and_says_why(kron: Cli, tmp_path: Path) -> None:
    task = manifest(jitterSeconds=30)
    result = kron("next", "-f", write(tmp_path, task), "--after", "2026-01-01T00:00:00Z", "-n", "2")
    assert result.code == 0
    assert result.lines == ["2026-01-01T03:00:00+00:00", "2026-01-02T03:00:00+00:00"]
    assert len(result.err.splitlines()) == 1
    assert "UID" in result.err and "--uid" in result.err


def test_suspended_task_lists_times_with_a_note(kron: Cli, tmp_path: Path) -> None:
    result = kron(
        "next", "-f", write(tmp_path, manifest(suspend=True)), "--after", "2026-01-01T00:00:00Z"
    )
    assert len(result.lines) == 5
    assert "spec.suspend is true" in result.err


def test_stdin(kron: Cli) -> None:
    text = yaml.safe_dump(manifest(timeZone="America/New_York"))
    result = kron("next", "-f", "-", "--after", "2026-03-07T12:00:00Z", "-n", "1", stdin=text)
    assert result.lines == ["2026-03-08T03:00:00-04:00"]


def test_other_documents_and_lists_are_skipped_over(kron: Cli, tmp_path: Path) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
    listing = {"apiVersion": "v1", "kind": "List", "items": [manifest()]}
    path = write(tmp_path, namespace, None, listing)
    result = kron("next", "-f", path, "--after", "2026-01-01T00:00:00Z", "-n", "1")
    assert result.lines == ["2026-01-01T03:00:00+00:00"]


@pytest.mark.parametrize(
    ("spec", "mentions"),
    [
        ({"schedule": "*/0 * * * *"}, ["spec.schedule", "minute", "step"]),
        ({"schedule": None, "schedules": ["@hourly", "0 3 * * * * *"]}, ["spec.schedules[1]"]),
        ({"timeZone": "Mars/Olympus_Mons"}, ["spec.timeZone", "unknown"]),
        ({"excludeSchedules": ["@every 1h"]}, ["exclusion", "cron"]),
        ({"scheduel": "0 3 * * *"}, ["spec.scheduel"]),
        ({"jobTemplate": None}, ["spec", "jobTemplate"]),
        ({"jitterSeconds": -1}, ["spec.jitterSeconds"]),
        (
            {"startTime": "2026-02-01T00:00:00Z", "endTime": "2026-01-01T00:00:00Z"},
            ["spec.endTime", "after startTime"],
        ),
    ],
)
def test_invalid_manifest_names_the_field(
    kron: Cli, tmp_path: Path, spec: Obj, mentions: list[str]
) -> None:
    path = write(tmp_path, manifest(**spec))
    line = kron("next", "-f", path, "--after", "2026-01-01T00:00:00Z").assert_one_line_error(1)
    assert line.startswith(f"kron next: error: {path}: ")
    for text in mentions:
        assert text in line


def test_wrong_api_version_names_the_field(kron: Cli, tmp_path: Path) -> None:
    task = manifest()
    task["apiVersion"] = "kron.dev/v1"
    line = kron("next", "-f", write(tmp_path, task)).assert_one_line_error(1)
    assert "apiVersion" in line


def test_several_problems_show_the_first_and_a_count(kron: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, manifest(jitterSeconds=-1, failedRunsHistoryLimit=1000))
    line = kron("next", "-f", path).assert_one_line_error(1)
    assert "(and 1 more)" in line


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("kind: ScheduledTask\nspec: [a\n", ["line 3", "column 1"]),
        ("a: b: c\n", ["line 1", "column 5", "mapping values"]),
        ("\tkind: x\n", ["line 1"]),
        ("", ["no ScheduledTask", "empty"]),
        ("apiVersion: v1\nkind: ConfigMap\n", ["no ScheduledTask", "ConfigMap"]),
        ("- 1\n- 2\n", ["not a Kubernetes object"]),
    ],
)
def test_malformed_yaml_is_one_line_with_the_position(
    kron: Cli, tmp_path: Path, text: str, mentions: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    line = kron("next", "-f", str(path)).assert_one_line_error(1)
    for word in mentions:
        assert word in line


def test_two_tasks_in_one_file_is_an_error(kron: Cli, tmp_path: Path) -> None:
    other = manifest()
    other["metadata"]["name"] = "hourly"
    line = kron("next", "-f", write(tmp_path, manifest(), other)).assert_one_line_error(1)
    assert "2 ScheduledTasks (nightly, hourly)" in line


def test_missing_file_is_one_line(kron: Cli, tmp_path: Path) -> None:
    line = kron("next", "-f", str(tmp_path / "nope.yaml")).assert_one_line_error(1)
    assert "nope.yaml: No such file or directory" in line


def test_binary_file_is_one_line(kron: Cli, tmp_path: Path) -> None:
    path = tmp_path / "blob.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    line = kron("next", "-f", str(path)).assert_one_line_error(1)
    assert "not UTF-8" in line


def test_tz_does_not_apply_to_a_manifest(kron: Cli, tmp_path: Path) -> None:
    line = kron("next", "-f", write(tmp_path, manifest()), "--tz", "UTC").assert_one_line_error(2)
    assert "spec.timeZone" in line
