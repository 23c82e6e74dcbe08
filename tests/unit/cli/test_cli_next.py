"""`kron next EXPR`: fire times of one expression, in a zone, under the DST rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_support import Cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["0 3 * * *", "--after", "2026-01-01T00:00:00Z", "-n", "2"],
            ["2026-01-01T03:00:00+00:00", "2026-01-02T03:00:00+00:00"],
            id="five-fields-utc-default",
        ),
        pytest.param(
            ["*/20 * * * * *", "--after", "2026-01-01T00:00:00Z", "-n", "3"],
            ["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00", "2026-01-01T00:01:00+00:00"],
            id="six-fields-seconds",
        ),
        pytest.param(
            [
                "0 9 * * MON-FRI",
                "--tz",
                "Europe/Berlin",
                "--after",
                "2026-01-02T00:00:00Z",
                "-n",
                "2",
            ],
            ["2026-01-02T09:00:00+01:00", "2026-01-05T09:00:00+01:00"],
            id="weekday-names-skip-the-weekend",
        ),
        pytest.param(
            ["0 9 * * *", "--tz", "Asia/Kolkata", "--after", "2026-01-01T00:00:00Z", "-n", "1"],
            ["2026-01-01T09:00:00+05:30"],
            id="half-hour-offset",
        ),
        pytest.param(
            ["@every 90s", "--tz", "Europe/Paris", "--after", "2026-01-01T00:00:00Z", "-n", "2"],
            ["2026-01-01T01:01:30+01:00", "2026-01-01T01:03:00+01:00"],
            id="every-counts-from-the-epoch-shown-in-the-zone",
        ),
        pytest.param(
            ["@at 2030-01-01T09:00:00Z", "--tz", "Europe/Paris", "--after", "2026-01-01T00:00:00Z"],
            ["2030-01-01T10:00:00+01:00"],
            id="one-off",
        ),
        pytest.param(
            ["@hourly", "--after", "2026-01-01T01:00:00Z", "-n", "1"],
            ["2026-01-01T02:00:00+00:00"],
            id="after-is-exclusive",
        ),
        pytest.param(
            ["0 18 LW * *", "--tz", "Europe/Berlin", "--after", "2026-01-01T00:00:00Z", "-n", "3"],
            ["2026-01-30T18:00:00+01:00", "2026-02-27T18:00:00+01:00", "2026-03-31T18:00:00+02:00"],
            id="last-weekday-of-the-month",
        ),
        pytest.param(
            [
                "0 9 ? * TUE#2",
                "--tz",
                "Australia/Sydney",
                "-n",
                "2",
                "--after",
                "2026-01-01T00:00Z",
            ],
            ["2026-01-13T09:00:00+11:00", "2026-02-10T09:00:00+11:00"],
            id="second-tuesday",
        ),
        pytest.param(
            ["@at 2200-01-01T00:00:00Z", "--after", "2026-01-01T00:00:00Z"],
            ["2200-01-01T00:00:00+00:00"],
            id="one-off-two-centuries-away",
        ),
        pytest.param(
            ["0", "3", "*", "*", "*", "--after", "2026-01-01T00:00:00Z", "-n", "1"],
            ["2026-01-01T03:00:00+00:00"],
            id="unquoted-fields-are-joined",
        ),
    ],
)
def test_next_lists_fire_times_with_the_zone_offset(
    kron: Cli, argv: list[str], expected: list[str]
) -> None:
    result = kron("next", *argv)
    assert (result.code, result.err) == (0, "")
    assert result.lines == expected


def test_spring_forward_fires_once_at_the_end_of_the_gap(kron: Cli) -> None:
    # 02:30 does not exist in New York on 2026-03-08 (02:00 EST -> 03:00 EDT).
    result = kron(
        "next",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-03-07T12:00:00Z",
        "-n",
        "3",
    )
    assert result.lines == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
    ]


def test_fall_back_fires_nightly_job_once(kron: Cli) -> None:
    # 01:30 happens twice in New York on 2026-11-01; a fixed-hour job fires at the first.
    result = kron(
        "next",
        "30 1 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-10-31T12:00:00Z",
        "-n",
        "2",
    )
    assert result.lines == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]


def test_fall_back_fires_every_hour_job_at_both_occurrences(kron: Cli) -> None:
    result = kron(
        "next",
        "30 * * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-11-01T04:00:00Z",
        "-n",
        "4",
    )
    assert result.lines == [
        "2026-11-01T00:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:30:00-05:00",
    ]


def test_default_after_is_now_and_default_count_is_five(
    kron: Cli, frozen_now: Callable[[str], None]
) -> None:
    frozen_now("2026-06-01T10:20:30+00:00")
    result = kron("next", "@hourly", "--tz", "Europe/London")
    assert result.lines == [
        "2026-06-01T12:00:00+01:00",
        "2026-06-01T13:00:00+01:00",
        "2026-06-01T14:00:00+01:00",
        "2026-06-01T15:00:00+01:00",
        "2026-06-01T16:00:00+01:00",
    ]


def test_count_flag_and_offset_in_after(kron: Cli) -> None:
    result = kron("next", "@daily", "--after", "2026-01-01T23:30:00-05:00", "--count", "1")
    assert result.lines == ["2026-01-03T00:00:00+00:00"]


def test_last_day_in_a_spring_forward_gap_fires_at_the_end_of_the_gap(kron: Cli) -> None:
    # 2024-03-31 is the last day of March and Berlin's clocks go 02:00 -> 03:00.
    result = kron(
        "next", "30 2 L * *", "--tz", "Europe/Berlin", "--after", "2024-03-30T00:00:00Z", "-n", "2"
    )
    assert (result.code, result.err) == (0, "")
    assert result.lines == ["2024-03-31T03:00:00+02:00", "2024-04-30T02:30:00+02:00"]


def test_hourly_job_skips_the_wall_time_spring_forward_removes(kron: Cli) -> None:
    # Chicago, 2025-03-09: 02:00 CST -> 03:00 CDT; 02:30 does not exist and is skipped.
    result = kron(
        "next", "30 * * * *", "--tz", "America/Chicago", "--after", "2025-03-09T07:00:00Z"
    )
    assert (result.code, result.err) == (0, "")
    assert result.lines[:3] == [
        "2025-03-09T01:30:00-06:00",
        "2025-03-09T03:30:00-05:00",
        "2025-03-09T04:30:00-05:00",
    ]


def test_misused_form_is_one_line_naming_field_and_problem(kron: Cli) -> None:
    line = kron("next", "0 0 * * 2#6").assert_one_line_error(1)
    assert line == (
        'kron next: error: schedule "0 0 * * 2#6": day-of-week: "2#6": occurrence 6 out of'
        " range 1-5"
    )


def test_nothing_left_prints_nothing_and_says_so(kron: Cli) -> None:
    result = kron("next", "@at 2020-01-01T00:00:00Z", "--after", "2026-01-01T00:00:00Z")
    assert result.code == 0
    assert result.out == ""
    assert "no fire times after 2026-01-01T00:00:00+00:00" in result.err


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["*/0 * * * *"], ["minute", "step"]),
        (["0 3 * * * * *"], ['"0 3 * * * * *"']),
        (["0 25 * * *"], ["hour"]),
        (["@every 0s"], ["@every"]),
        (["@often"], ['"@often"']),
        (["0 3 * * *", "--tz", "Mars/Olympus_Mons"], ["--tz", "Mars/Olympus_Mons", "unknown"]),
        (["0 3 * * *", "--tz", ""], ["--tz"]),
    ],
)
def test_bad_input_is_one_line_and_exit_1(kron: Cli, argv: list[str], mentions: list[str]) -> None:
    line = kron("next", *argv).assert_one_line_error(1)
    assert line.startswith("kron next: error: ")
    for text in mentions:
        assert text in line


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        ([], "needs an expression"),
        (["@hourly", "--after", "yesterday"], "--after"),
        (["@hourly", "--after", "2026-01-01T00:00:00"], "UTC offset"),
        (["@hourly", "-n", "0"], "between 1 and 1000"),
        (["@hourly", "-n", "1001"], "between 1 and 1000"),
        (["@hourly", "-n", "prod"], "-n takes a count"),
        (["@hourly", "-n", "2", "--count", "3"], "disagree"),
        (["@hourly", "--count", "two"], "--count"),
        (["@hourly", "--namespace", "prod"], "--namespace"),
        (["@hourly", "--kubeconfig", "/x"], "--kubeconfig"),
        (["@hourly", "--uid", "abc"], "--uid"),
        (["@hourly", "-f", "task.yaml"], "not both"),
        (["@hourly", "--bogus"], "unrecognized arguments"),
        (["nightly", "--tz", "UTC"], "--tz"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(kron: Cli, argv: list[str], mentions: str) -> None:
    line = kron("next", *argv).assert_one_line_error(2)
    assert mentions in line


def test_unknown_command_is_a_usage_error(kron: Cli) -> None:
    line = kron("nxet").assert_one_line_error(2)
    assert "nxet" in line


def test_help_exits_0(kron: Cli) -> None:
    result = kron("next", "--help")
    assert result.code == 0
    assert "-n N|NAMESPACE" in result.out


def test_kubectl_plugin_has_next_but_not_run_or_crd(kron: Cli) -> None:
    result = kron("next", "@yearly", "--after", "2026-06-01T00:00:00Z", "-n", "1", plugin=True)
    assert result.lines == ["2027-01-01T00:00:00+00:00"]
    for verb in ("run", "crd"):
        line = kron(verb, plugin=True).assert_one_line_error(2)
        assert line.startswith("kubectl kron: error: ")
