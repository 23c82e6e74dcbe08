"""The image's locked dependency sets, with hashes: generate them, or check they are fresh.

Three lock files, all installed by the Dockerfile with ``pip install --require-hashes``:

  operator/requirements.lock        kron's runtime dependencies ([project] dependencies),
                                    the only packages besides kron in the image's venv
  operator/build-requirements.lock  what builds kron's wheel ([build-system] requires),
                                    used in the build stage only
  operator/ui-requirements.lock     the `ui` extra (Jinja2 and what it needs), added to
                                    the venv only when the image is built with KRON_UI=1
                                    (a `kron ui` image); it pins nothing the runtime
                                    lock pins, so the two install together

Both are resolved by ``uv pip compile`` for the image's interpreter and platform (CPython
3.11 on x86-64 glibc 2.36, Debian bookworm's), not for whatever runs this script, from
wheels only (the image has no compiler), and from what PyPI held at ``EXCLUDE_NEWER``: the
same inputs give the same file on any machine and on any day. Every file of each pinned
version is hashed, so the lock also installs on other platforms (arm64).

    make lock      # regenerate (network: PyPI); bump EXCLUDE_NEWER to take newer releases
    make verify    # runs `lock.py --check`, offline

``--check`` needs no network. Each lock carries a digest of its inputs (the requirements
taken from pyproject.toml, requires-python and the resolver settings below), so editing
pyproject's dependencies without `make lock` fails; and each requirement must be pinned
to a version it allows, with hashes (a hand edit of the lock fails too). That the lock is
closed (every transitive dependency pinned) is proven where pip installs it with
``--require-hashes``, which refuses a set that lacks one: in the image build and in
tests/packaging.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

# The image's interpreter and platform (Debian bookworm: glibc 2.36; the release base
# python:3.11-slim-bookworm and the local base made by hack/image-base.sh alike).
PYTHON_VERSION = "3.11"
PYTHON_PLATFORM = "x86_64-manylinux_2_36"
# Only releases uploaded before this instant are candidates: a fixed input, so `make
# lock` is reproducible. Move it forward (and run `make lock`) to take new releases.
EXCLUDE_NEWER = "2026-11-30T00:00:00Z"
RESOLVER_ARGS = (
    "--generate-hashes",
    "--python-version",
    PYTHON_VERSION,
    "--python-platform",
    PYTHON_PLATFORM,
    "--only-binary",
    ":all:",
    "--exclude-newer",
    EXCLUDE_NEWER,
)
DIGEST_PREFIX = "# inputs-sha256: "


@dataclass(frozen=True)
class Lock:
    path: Path
    requirements: tuple[str, ...]
    requires_python: str
    source: str  # what uv reads: pyproject.toml itself, or "-" (stdin)


def locks(root: Path = ROOT) -> tuple[Lock, Lock, Lock]:
    """The locks of the checkout at ``root``, with their inputs from its pyproject."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    python = str(project["project"]["requires-python"])
    return (
        Lock(
            root / "operator" / "requirements.lock",
            tuple(project["project"]["dependencies"]),
            python,
            "pyproject.toml",
        ),
        Lock(
            root / "operator" / "build-requirements.lock",
            tuple(project["build-system"]["requires"]),
            python,
            "-",
        ),
        Lock(
            root / "operator" / "ui-requirements.lock",
            tuple(project["project"]["optional-dependencies"]["ui"]),
            python,
            "-",
        ),
    )


def digest(lock: Lock) -> str:
    inputs = {
        "requirements": sorted(lock.requirements),
        "requires-python": lock.requires_python,
        "resolver": list(RESOLVER_ARGS),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        sys.exit("lock: uv not found: make install (it is a dev dependency)")
    return found


def compile_lock(lock: Lock, output: Path) -> None:
    """Resolve ``lock`` into ``output`` (network), then stamp the inputs' digest."""
    argv = [
        uv(),
        "pip",
        "compile",
        lock.source,
        *RESOLVER_ARGS,
        "--custom-compile-command",
        "make lock",
        "--quiet",
        "--output-file",
        str(output),
    ]
    stdin = "".join(f"{r}\n" for r in lock.requirements) if lock.source == "-" else None
    subprocess.run(argv, cwd=lock.path.parent.parent, input=stdin, text=True, check=True)
    lines = output.read_text(encoding="utf-8").splitlines(keepends=True)
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    lines.insert(header, f"{DIGEST_PREFIX}{digest(lock)}\n")
    output.write_text("".join(lines), encoding="utf-8")


def pins(text: str) -> dict[str, tuple[Version, int]]:
    """{name: (pinned version, number of hashes)} of a hashed requirements file."""
    joined = re.sub(r"\\\n", " ", text)
    found: dict[str, tuple[Version, int]] = {}
    for line in joined.splitlines():
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        spec, *options = body.split(" --hash=")
        requirement = Requirement(spec.strip())
        (pinned,) = requirement.specifier
        if pinned.operator != "==":
            raise ValueError(f"{requirement}: not pinned with ==")
        if not options or not all(o.startswith("sha256:") for o in options):
            raise ValueError(f"{requirement}: no sha256 hashes")
        found[canonicalize_name(requirement.name)] = (Version(pinned.version), len(options))
    return found


def problems(lock: Lock) -> list[str]:
    name = Path(lock.path.parent.name, lock.path.name)
    if not lock.path.is_file():
        return [f"{name}: missing; run `make lock`"]
    text = lock.path.read_text(encoding="utf-8")
    stamped = [
        line.removeprefix(DIGEST_PREFIX)
        for line in text.splitlines()
        if line.startswith(DIGEST_PREFIX)
    ]
    found: list[str] = []
    if stamped != [digest(lock)]:
        found.append(
            f"{name}: stale: pyproject.toml's requirements or the resolver settings in "
            "hack/lock.py changed since it was made; run `make lock`"
        )
    try:
        pinned = pins(text)
    except ValueError as error:
        return [*found, f"{name}: {error}"]
    for text_requirement in lock.requirements:
        requirement = Requirement(text_requirement)
        key = canonicalize_name(requirement.name)
        if key not in pinned:
            found.append(f"{name}: {requirement.name} is required but not pinned")
        elif not requirement.specifier.contains(pinned[key][0], prereleases=True):
            version = pinned[key][0]
            found.append(f"{name}: {requirement.name}=={version} does not satisfy {requirement}")
    if "kron" in pinned:
        found.append(f"{name}: pins kron itself")
    return found


def overlap(all_locks: tuple[Lock, Lock, Lock]) -> list[str]:
    """The ui lock goes into the same venv as the runtime lock: it must add packages only
    (a package in both, at two versions, would make ``pip install`` of the two fail)."""
    runtime, _, ui = all_locks
    if not (runtime.path.is_file() and ui.path.is_file()):
        return []
    try:
        both = pins(runtime.path.read_text()).keys() & pins(ui.path.read_text()).keys()
    except ValueError:
        return []  # reported by problems()
    return [
        f"operator/{ui.path.name}: pins {name}, which operator/{runtime.path.name} pins too; "
        "run `make lock`"
        for name in sorted(both)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="check offline, write nothing")
    args = parser.parse_args()
    if args.check:
        found = [p for lock in locks() for p in problems(lock)] + overlap(locks())
        for problem in found:
            print(f"lock: {problem}", file=sys.stderr)
        return 1 if found else 0
    for lock in locks():
        compile_lock(lock, lock.path)
        print(f"lock: wrote {lock.path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
