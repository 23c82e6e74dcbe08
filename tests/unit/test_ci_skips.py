"""Under KRON_CI=1 a skipped test fails (tests/support/ci.py), so CI never counts a test
that did not run as passing; elsewhere a skip stays a skip. Each case runs a real pytest,
in a subprocess, on a small suite written for it, with the hooks loaded as a plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

SUITE = """
import pytest

def test_runs():
    assert True

def test_needs_a_tool():
    pytest.skip("no frobnicator on this host")

@pytest.mark.skipif(True, reason="needs IPv6")
def test_marked():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
"""

MODULE_SKIP = """
import pytest
pytest.skip("the whole module needs kind", allow_module_level=True)

def test_never_collected():
    pass
"""


def pytest_in(
    tmp_path: Path, ci: str | None, suite: str = SUITE
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(suite)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the repository's settings
    env = {k: v for k, v in os.environ.items() if k != "KRON_CI"}
    if ci is not None:
        env["KRON_CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "support.ci", "-p", "no:cacheprovider", "-rA"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    (last,) = [line for line in result.stdout.splitlines() if line.startswith("=")][-1:]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def test_under_ci_every_skip_fails_and_says_why(tmp_path: Path) -> None:
    result = pytest_in(tmp_path, "1")
    assert result.returncode == 1, result.stdout
    # A skip in the test's body fails it; a skip mark acts at setup, so that is an error.
    assert summary(result) == {"passed": 1, "failed": 1, "error": 1, "xfailed": 1}, result.stdout
    for reason in ("no frobnicator on this host", "needs IPv6"):
        assert re.search(
            rf"skipped under KRON_CI=1, where a skip is a failure.*{reason}", result.stdout
        ), reason


def test_under_ci_a_module_skipped_at_collection_is_an_error(tmp_path: Path) -> None:
    result = pytest_in(tmp_path, "1", MODULE_SKIP)
    assert result.returncode == 2, result.stdout  # pytest: interrupted by a collection error
    assert summary(result) == {"error": 1}, result.stdout
    assert "skipped under KRON_CI=1, where a skip is a failure" in result.stdout
    assert "the whole module needs kind" in result.stdout


@pytest.mark.parametrize("ci", [None, "", "0"])
def test_outside_ci_a_skip_stays_a_skip(tmp_path: Path, ci: str | None) -> None:
    result = pytest_in(tmp_path, ci)
    assert result.returncode == 0, result.stdout
    assert summary(result) == {"passed": 1, "skipped": 2, "xfailed": 1}, result.stdout
    module = pytest_in(tmp_path, ci, MODULE_SKIP)
    assert module.returncode == 5 and summary(module) == {"skipped": 1}, module.stdout
