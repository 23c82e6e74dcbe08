"""The chart's alerts and Grafana dashboard query metrics kron really exports, by the
names and labels Prometheus stores them under, and cover what operators need to see."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from prometheus_client.metrics import MetricWrapperBase

from chart.helm import CHART, Helm, one
from kron.metrics import Metrics

DASHBOARD = CHART / "dashboards" / "kron.json"

# Labels a prometheus-operator scrape adds to every series of a target. kron's own
# `namespace` label (a task's namespace) is renamed exported_namespace on the way in.
TARGET_LABELS = {"job", "namespace", "pod", "instance", "service", "endpoint", "container"}
SHARD_LABEL = "kron_dev_shard"  # from the ServiceMonitor's podTargetLabels


def exported_series() -> dict[str, set[str]]:
    """Every series name kron can export, with the labels each can carry after a scrape."""
    metrics = Metrics(per_task=True)
    series: dict[str, set[str]] = {"up": set(TARGET_LABELS)}
    collectors = [v for v in vars(metrics).values() if isinstance(v, MetricWrapperBase)]
    for collector in collectors:
        for family in collector.describe():
            own = set(getattr(collector, "_labelnames", ()))
            if "namespace" in own:
                own = (own - {"namespace"}) | {"exported_namespace"}
            labels = own | TARGET_LABELS | {SHARD_LABEL}
            if family.type == "counter":
                names = [family.name + "_total"]
            elif family.type == "histogram":
                names = [family.name + suffix for suffix in ("_bucket", "_sum", "_count")]
                labels = labels | {"le"}
            else:
                names = [family.name]
            for name in names:
                series[name] = labels
    return series


def check_expression(expr: str, series: dict[str, set[str]]) -> list[str]:
    """Problems with one PromQL expression: unknown series, unknown labels in matchers or
    in by()/without(), unbalanced brackets."""
    problems = []
    for opening, closing in ("()", "[]", "{}"):
        if expr.count(opening) != expr.count(closing):
            problems.append(f"unbalanced {opening}{closing}")
    grouping = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")
    used = set()
    for name, matchers in re.findall(
        r"\b([a-z_][a-z0-9_]*)\s*(\{[^}]*\})?", grouping.sub("", expr)
    ):
        if name.startswith("kron_") or name == "up":
            used.add(name)
            if name not in series:
                problems.append(f"no such series {name}")
                continue
            for label in re.findall(r"([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers):
                if label not in series[name]:
                    problems.append(f"{name} has no label {label}")
    if not used:
        problems.append("queries no kron series")
    allowed = set().union(*(series[name] for name in used if name in series))
    for group in grouping.findall(expr):
        for label in filter(None, (part.strip() for part in group.split(","))):
            if label not in allowed:
                problems.append(f"grouping by unknown label {label}")
    return problems


@pytest.fixture(scope="module")
def rendered(helm: Helm) -> list[dict[str, Any]]:
    return helm.render(
        {
            "metrics": {
                "serviceMonitor": {"enabled": True},
                "prometheusRule": {"enabled": True},
                "grafanaDashboard": {"enabled": True},
            }
        },
        release="mon",
        namespace="ops",
    )


def test_expression_checker_catches_mistakes() -> None:
    """The control for the tests below."""
    series = exported_series()
    assert not check_expression('sum by (trigger) (rate(kron_fires_total{job="x"}[5m]))', series)
    assert check_expression("rate(kron_fires[5m])", series)  # counters end in _total
    assert check_expression('kron_leader{task="a"}', series)
    assert check_expression("sum by (task) (kron_active_runs)", series)
    assert check_expression("sum(rate(kron_fires_total[5m])", series)


def test_alerts_cover_the_failure_modes_with_real_metrics(rendered: list[dict[str, Any]]) -> None:
    rule = one(rendered, "PrometheusRule")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {
        "KronOperatorDown",
        "KronNoLeader",
        "KronTicksMissed",
        "KronFireLagHigh",
        "KronRunsFailing",
        "KronTaskOverdue",
        "KronActiveRunsCapped",
    } <= set(alerts)
    series = exported_series()
    for name, alert in alerts.items():
        assert not check_expression(alert["expr"], series), (name, alert["expr"])
        # Scoped to this release's targets, so two releases do not alert for each other.
        assert 'job="mon-kron-metrics"' in alert["expr"] and 'namespace="ops"' in alert["expr"]
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
    assert 'trigger="schedule"' in alerts["KronFireLagHigh"]["expr"]
    assert "histogram_quantile(0.99" in alerts["KronFireLagHigh"]["expr"]
    assert "kron_ticks_missed_total" in alerts["KronTicksMissed"]["expr"]
    assert 'result="Failed"' in alerts["KronRunsFailing"]["expr"]
    capped = alerts["KronActiveRunsCapped"]["expr"]
    assert "kron_ticks_skipped_total{" in capped and 'reason="TooManyActive"' in capped
    overdue = alerts["KronTaskOverdue"]
    assert overdue["expr"].startswith("max by (namespace, exported_namespace) (kron_tasks_overdue{")
    assert overdue["expr"].endswith("> 0") and overdue["for"] == "5m"
    assert "successDeadlineSeconds" in overdue["annotations"]["description"]


def test_service_monitor_scrapes_the_metrics_service(rendered: list[dict[str, Any]]) -> None:
    monitor = one(rendered, "ServiceMonitor")
    service = one(rendered, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ops"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["honorLabels"] is False  # the alerts rely on exported_namespace


def test_dashboard_ships_in_a_sidecar_configmap(rendered: list[dict[str, Any]]) -> None:
    configmap = one(rendered, "ConfigMap")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["kron.json"]) == json.loads(DASHBOARD.read_text())


def _panels() -> list[dict[str, Any]]:
    return list(json.loads(DASHBOARD.read_text())["panels"])


def test_dashboard_queries_real_metrics_and_known_variables() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    builtins = {"__rate_interval", "__interval", "__range"}
    series = exported_series()
    for panel in _panels():
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            expr = target["expr"]
            assert not check_expression(expr, series), (panel["title"], expr)
            for var in re.findall(r"\$\{?(\w+)", expr):
                assert var in variables | builtins, (panel["title"], var)
            assert 'namespace="$namespace"' in expr and 'job="$job"' in expr, panel["title"]


def test_dashboard_shows_what_the_issue_asks_for() -> None:
    exprs = " ".join(t["expr"] for p in _panels() for t in p.get("targets", []))
    assert "rate(kron_fires_total" in exprs  # fires per second
    assert "histogram_quantile(0.5, sum by (le) (rate(kron_fire_lag_seconds_bucket" in exprs
    assert "histogram_quantile(0.99, sum by (le) (rate(kron_fire_lag_seconds_bucket" in exprs
    assert 'kron_runs_finished_total{namespace="$namespace",job="$job",result="Failed"}' in exprs
    for needed in ("kron_ticks_missed_total", "kron_ticks_skipped_total", "kron_active_runs"):
        assert needed in exprs
    assert "kron_queue_depth" in exprs and "kron_leader" in exprs
    assert "sum by (reason)" in exprs  # missed and skipped by reason


def test_dashboard_layout_has_unique_ids_and_no_overlaps() -> None:
    panels = _panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
