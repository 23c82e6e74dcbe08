"""What the admission-policy package's docstrings, comments and field descriptions point
to exists: every ``kron.x.y`` in double backquotes names an importable module or one of
its attributes, and every repository path (docs/, tests/, charts/, crds/, operator/) is
a file or folder of the repository. A renamed module or moved test otherwise leaves the
text pointing at nothing (``kron.api.policy.interval`` once stood for ``cadence``)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import kron.api.policy

PACKAGE = Path(kron.api.policy.__file__).parent
REPO = PACKAGE.parents[3]
SOURCES = sorted(PACKAGE.glob("*.py"))
DOTTED = re.compile(r"``(kron(?:\.[A-Za-z_][A-Za-z0-9_]*)+)``")
PATH = re.compile(r"\b(?:docs|tests|charts|crds|operator)/[A-Za-z0-9_./-]*[A-Za-z0-9_/]")


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def _mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return sorted(
        {(src.name, found) for src in SOURCES for found in pattern.findall(src.read_text())}
    )


def test_the_package_mentions_something() -> None:
    # The scans below must have something to check, or they prove nothing.
    assert _mentions(DOTTED) and _mentions(PATH)


@pytest.mark.parametrize(("source", "dotted"), _mentions(DOTTED))
def test_every_dotted_name_resolves(source: str, dotted: str) -> None:
    assert _resolves(dotted), f"{source} mentions {dotted}, which does not exist"


@pytest.mark.parametrize(("source", "path"), _mentions(PATH))
def test_every_repository_path_exists(source: str, path: str) -> None:
    assert (REPO / path).exists(), f"{source} mentions {path}, which does not exist"
