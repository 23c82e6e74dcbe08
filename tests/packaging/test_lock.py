"""The image's locked dependency sets (hack/lock.py): `make verify`'s offline freshness
check passes on the repository and fails on each kind of drift, and `make lock`
reproduces the committed files byte for byte."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import lock

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what the locks are made from: pyproject.toml and operator/*.lock."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "operator").mkdir()
    for path in (REPO / "operator").glob("*.lock"):
        shutil.copy(path, tmp_path / "operator")
    return tmp_path


def all_problems(root: Path) -> list[str]:
    return [problem for each in lock.locks(root) for problem in lock.problems(each)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_the_committed_locks_are_fresh() -> None:
    assert all_problems(REPO) == []
    runtime, build, ui = lock.locks(REPO)
    assert {"kopf", "kubernetes", "pydantic", "tzdata"} <= lock.pins(
        runtime.path.read_text()
    ).keys()
    assert {"setuptools", "wheel"} <= lock.pins(build.path.read_text()).keys()
    assert lock.pins(ui.path.read_text()).keys() == {"jinja2", "markupsafe"}
    assert lock.overlap(lock.locks(REPO)) == []


def test_a_changed_ui_extra_makes_only_the_ui_lock_stale(checkout: Path) -> None:
    edit(checkout / "pyproject.toml", '"jinja2>=3.1,<4"', '"jinja2>=3.2,<4"')
    found = all_problems(checkout)
    assert found[0].startswith("operator/ui-requirements.lock: stale"), found
    assert "jinja2==3.1.6 does not satisfy jinja2<4,>=3.2" in found[1], found
    assert len(found) == 2, found


def test_the_ui_lock_may_not_pin_what_the_runtime_lock_pins(checkout: Path) -> None:
    runtime = (checkout / "operator" / "requirements.lock").read_text()
    pydantic = re.search(r"^pydantic==\S+ \\\n(\s+--hash=\S+ \\\n)*\s+--hash=\S+\n", runtime, re.M)
    assert pydantic is not None
    with (checkout / "operator" / "ui-requirements.lock").open("a") as ui:
        ui.write(pydantic.group(0))
    assert lock.overlap(lock.locks(checkout)) == [
        "operator/ui-requirements.lock: pins pydantic, which operator/requirements.lock "
        "pins too; run `make lock`"
    ]


def test_a_changed_runtime_dependency_makes_the_lock_stale(checkout: Path) -> None:
    edit(checkout / "pyproject.toml", '"pydantic>=2.7,<3"', '"pydantic>=2.7,<3", "rich"')
    found = all_problems(checkout)
    assert any("requirements.lock: stale" in p for p in found), found
    assert any("rich is required but not pinned" in p for p in found), found
    assert not any("build-requirements.lock" in p for p in found), found


def test_a_changed_build_requirement_makes_only_the_build_lock_stale(checkout: Path) -> None:
    edit(checkout / "pyproject.toml", '"setuptools>=69"', '"setuptools>=70"')
    (problem,) = all_problems(checkout)
    assert problem.startswith("operator/build-requirements.lock: stale"), problem


def test_a_hand_edited_pin_outside_the_declared_range_fails(checkout: Path) -> None:
    path = checkout / "operator" / "requirements.lock"
    edit(
        path, re.search(r"^kubernetes==\S+", path.read_text(), re.M).group(0), "kubernetes==36.0.0"
    )  # type: ignore[union-attr]
    (problem,) = all_problems(checkout)
    assert "kubernetes==36.0.0 does not satisfy kubernetes<38,>=37" in problem, problem


def test_a_pin_without_hashes_fails(checkout: Path) -> None:
    path = checkout / "operator" / "requirements.lock"
    text = re.sub(
        r"(^kopf==\S+) \\\n(\s+--hash=\S+ \\\n)*\s+--hash=\S+\n",
        r"\1\n",
        path.read_text(),
        flags=re.M,
    )
    path.write_text(text)
    (problem,) = all_problems(checkout)
    assert "kopf" in problem and "no sha256 hashes" in problem, problem


def test_a_missing_lock_fails(checkout: Path) -> None:
    (checkout / "operator" / "build-requirements.lock").unlink()
    assert all_problems(checkout) == ["operator/build-requirements.lock: missing; run `make lock`"]


@pytest.mark.slow
def test_make_lock_reproduces_the_committed_locks(tmp_path: Path) -> None:
    """Resolved afresh (no previous lock to prefer, network: PyPI) from the same inputs:
    the same bytes, because candidates stop at EXCLUDE_NEWER."""
    for each in lock.locks(REPO):
        fresh = tmp_path / each.path.name
        lock.compile_lock(each, fresh)
        assert fresh.read_text() == each.path.read_text(), each.path.name
