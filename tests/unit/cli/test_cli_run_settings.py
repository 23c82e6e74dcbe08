"""`kron run`: Settings from flags over KRON_* environment over defaults, checked."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli

from kron.cli.errors import UsageError
from kron.cli.knobs import field_docs, knobs, run_parser, unknown_variables
from kron.cli.run import settings_from
from kron.settings import Settings

NO_FILE = Path("/nonexistent/kron-test/namespace")


def build(argv: list[str] | None = None, env: dict[str, str] | None = None, **kw: Any) -> Settings:
    kw.setdefault("pod_namespace_file", NO_FILE)
    return settings_from(argv or [], env or {}, **kw)


def comparable(settings: Settings) -> dict[str, Any]:
    values = dataclasses.asdict(settings)
    values.pop("identity")
    return values


def test_no_flags_no_env_gives_the_settings_defaults() -> None:
    assert comparable(build()) == comparable(Settings())


@pytest.mark.parametrize(
    ("env", "value", "field", "expected"),
    [
        ("KRON_QPS", "50.5", "qps", 50.5),
        ("KRON_BURST", "100", "burst", 100),
        ("KRON_WORKERS", "8", "workers", 8),
        ("KRON_NAMESPACES", "team-a, team-b,,", "namespaces", ("team-a", "team-b")),
        ("KRON_LEADER_ELECTION", "false", "leader_election", False),
        ("KRON_LEADER_ELECTION", "On", "leader_election", True),
        ("KRON_LEASE_NAME", "kron-blue", "lease_name", "kron-blue"),
        ("KRON_LEASE_NAMESPACE", "kron-system", "lease_namespace", "kron-system"),
        ("KRON_METRICS_PORT", "0", "metrics_port", 0),
        ("KRON_METRICS_PER_TASK", "1", "metrics_per_task", True),
        ("KRON_SHARD_COUNT", "4", "shard_count", 4),
        ("KRON_JSON_LOGS", "yes", "json_logs", True),
        ("KRON_LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("KRON_KUBECONFIG", "/etc/kron/kubeconfig", "kubeconfig", "/etc/kron/kubeconfig"),
        ("KRON_CONTEXT", "prod", "context", "prod"),
        ("KRON_NAMESPACE_WEIGHTS", "prod=4, batch=0.5", "weights", {"prod": 4.0, "batch": 0.5}),
    ],
)
def test_environment_variables(env: str, value: str, field: str, expected: object) -> None:
    assert getattr(build(env={env: value}), field) == expected


def test_shard_index_from_the_environment() -> None:
    settings = build(env={"KRON_SHARD_INDEX": "3", "KRON_SHARD_COUNT": "4"})
    assert (settings.shard_index, settings.shard_count) == (3, 4)


def test_flags_win_over_the_environment() -> None:
    env = {"KRON_QPS": "10", "KRON_LEADER_ELECTION": "true", "KRON_NAMESPACES": "a"}
    settings = build(["--qps", "20", "--no-leader-election", "--namespaces", "b,c"], env)
    assert (settings.qps, settings.leader_election, settings.namespaces) == (
        20.0,
        False,
        ("b", "c"),
    )


def test_an_empty_variable_counts_as_unset() -> None:
    assert build(env={"KRON_QPS": "", "KRON_NAMESPACES": ""}).qps == Settings().qps


def test_kubeconfig_and_context_flags() -> None:
    settings = build(["--kubeconfig", "/k", "--context", "c"])
    assert (settings.kubeconfig, settings.context) == ("/k", "c")


def test_lease_namespace_defaults_to_the_pod_namespace(tmp_path: Path) -> None:
    own = tmp_path / "namespace"
    own.write_text("kron-system\n", encoding="utf-8")
    assert build(pod_namespace_file=own).lease_namespace == "kron-system"
    assert (
        build(env={"KRON_LEASE_NAMESPACE": "ops"}, pod_namespace_file=own).lease_namespace == "ops"
    )
    assert build(["--lease-namespace", "x"], pod_namespace_file=own).lease_namespace == "x"


def test_lease_namespace_is_default_outside_a_cluster() -> None:
    assert build().lease_namespace == "default"


@pytest.mark.parametrize(
    ("argv", "env", "mentions"),
    [
        (["--qps", "0"], {}, "--qps: must be greater than 0"),
        ([], {"KRON_QPS": "fast"}, "KRON_QPS: expected a number, got 'fast'"),
        ([], {"KRON_QPS": "nan"}, "KRON_QPS: expected a finite number"),
        ([], {"KRON_BURST": "0"}, "KRON_BURST: must be at least 1"),
        (["--workers", "1.5"], {}, "--workers: expected a whole number"),
        ([], {"KRON_SHARD_INDEX": "2", "KRON_SHARD_COUNT": "2"}, "KRON_SHARD_INDEX: must be"),
        (["--shard-index", "-1"], {}, "--shard-index: must be between 0"),
        (["--metrics-port", "70000"], {}, "--metrics-port: must be a port"),
        ([], {"KRON_LOG_LEVEL": "LOUD"}, "KRON_LOG_LEVEL: must be one of"),
        ([], {"KRON_LEADER_ELECTION": "maybe"}, "KRON_LEADER_ELECTION: expected true or false"),
        ([], {"KRON_NAMESPACES": "ok,Not_OK"}, "KRON_NAMESPACES: 'Not_OK' is not a valid"),
        (["--namespaces", "a,a"], {}, "--namespaces: lists a namespace twice"),
        ([], {"KRON_NAMESPACE_WEIGHTS": "prod"}, "expected namespace=weight, got 'prod'"),
        (["--namespace-weights", "a=x"], {}, "--namespace-weights: weight of 'a' is not a"),
        (["--namespace-weights", "a=0"], {}, "weight of 'a' must be between 0.001 and 1000"),
        (["--namespace-weights", "a=inf"], {}, "weight of 'a' must be between"),
        (["--namespace-weights", "a=1,a=2"], {}, "namespace 'a' is listed twice"),
        (["--namespace-weights", "A_b=2"], {}, "'A_b' is not a valid namespace name"),
        (["--lease-name", "Kron!"], {}, "--lease-name: 'Kron!' is not a valid object name"),
        (["--renew-deadline", "20"], {}, "--renew-deadline: must be less than --lease-duration"),
        (["--retry-period", "0"], {}, "--retry-period: must be greater than 0"),
        ([], {"KRON_WATCH_TIMEOUT": "1_0"}, "KRON_WATCH_TIMEOUT: expected a whole number"),
        ([], {"KRON_WORKERS": "\u0661\u0662"}, "KRON_WORKERS: expected a whole number"),
        ([], {"KRON_QPS": "0x10"}, "KRON_QPS: expected a number"),
        ([], {"KRON_LEASE_DURATION": "1e308"}, "KRON_LEASE_DURATION: must be at most 86400"),
        (["--watch-timeout", "999999999"], {}, "--watch-timeout: must be at most 86400"),
        ([], {"KRON_IDENTITY": "a\nb"}, "KRON_IDENTITY: must be one line of at most 253"),
        ([], {"KRON_IDENTITY": "x" * 254}, "KRON_IDENTITY: must be one line of at most 253"),
        (["--qps"], {}, "expected one argument"),
        (["--bogus"], {}, "unrecognized arguments"),
    ],
)
def test_invalid_settings_are_one_line_usage_errors(
    argv: list[str], env: dict[str, str], mentions: str
) -> None:
    with pytest.raises(UsageError) as caught:
        build(argv, env)
    assert mentions in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_every_settings_field_has_a_flag_a_variable_and_help() -> None:
    by_name = {knob.name: knob for knob in knobs()}
    assert set(by_name) == {f.name for f in dataclasses.fields(Settings)}
    for name, knob in by_name.items():
        assert knob.flag == "--" + name.replace("_", "-")
        assert knob.env == "KRON_" + name.upper()
        assert knob.help, f"{name} has no help text"


def test_help_comes_from_the_settings_docstrings() -> None:
    docs = field_docs(Settings)
    assert docs["qps"].startswith("Client-side rate limit")
    # One docstring documents a pair of fields; both get it.
    assert docs["shard_index"] == docs["shard_count"]
    text = run_parser().format_help()
    assert "Client-side rate limit" in text
    assert "KRON_QPS" in text


def test_run_help_exits_0(kron: Cli) -> None:
    result = kron("run", "--help")
    assert result.code == 0
    assert "--leader-election, --no-leader-election" in result.out


def test_run_error_is_one_line(kron: Cli) -> None:
    line = kron("run", "--shard-count", "0").assert_one_line_error(2)
    assert line == "kron run: error: --shard-count: must be at least 1, got 0"


def test_run_without_any_kubeconfig_says_so(
    kron: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    line = kron("run").assert_one_line_error(1)
    assert "no kubeconfig" in line


def test_run_hands_the_settings_to_serve(
    kron: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[Settings] = []

    async def serve(settings: Settings) -> None:
        received.append(settings)

    fake = types.ModuleType("kron.app")
    fake.serve = serve  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kron.app", fake)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {}}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KRON_WORKERS", "3")
    result = kron("run", "--kubeconfig", str(kubeconfig), "--qps", "7")
    assert (result.code, result.err) == (0, "")
    assert [(s.qps, s.workers, s.kubeconfig) for s in received] == [(7.0, 3, str(kubeconfig))]


def test_a_misspelt_setting_is_reported_with_the_likely_name() -> None:
    lines = unknown_variables(
        {"KRON_QSP": "50", "KRON_QPS": "50", "KRON_DEBUG": "1", "KRON_CI": "1", "HOME": "/"}
    )
    assert lines == ["ignoring KRON_QSP: not a kron run setting (did you mean KRON_QPS?)"]


def test_variables_of_other_tools_are_named_without_a_guess() -> None:
    assert unknown_variables({"KRON_SIM_NODES": "3"}) == [
        "ignoring KRON_SIM_NODES: not a kron run setting"
    ]
