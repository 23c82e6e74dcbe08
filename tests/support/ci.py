"""Under CI (``KRON_CI=1``, which .ci/run sets) a skipped test is a failed one.

A test skips when something it needs is missing (IPv6 on the host, the container tools
where they cannot be installed, the local harness): fine on a laptop, where the reason is
printed, but CI would report such a run green with the test never run. So under CI every
skip, of a test or of a whole module at collection, is reported as a failure that says
what was skipped and why. An expected failure (xfail) is not a skip and stays as it is.

tests/conftest.py takes these hooks in; ``-p support.ci`` loads them into any pytest run.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

CI_ENV = "KRON_CI"


def under_ci() -> bool:
    return os.environ.get(CI_ENV, "") not in ("", "0")


def _as_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    longrepr = report.longrepr
    # A skip's longrepr is (path, line, "Skipped: <reason>").
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under {CI_ENV}=1, where a skip is a failure (CI never counts a test "
        f"that did not run as passing): {reason}"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and under_ci():
        _as_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.skipped and under_ci():
        _as_failure(report)
    return report
