"""`kron crd` prints the CRD users apply from crds/, byte for byte."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_support import Cli

CRDS = Path(__file__).resolve().parents[3] / "crds"
CRD_FILE = CRDS / "kron.dev_scheduledtasks.yaml"
CALENDAR_FILE = CRDS / "kron.dev_calendars.yaml"


def test_crd_prints_the_committed_crds(kron: Cli) -> None:
    result = kron("crd")
    assert (result.code, result.err) == (0, "")
    first, second = result.out.split("---\n# Code generated", 1)
    assert first == CRD_FILE.read_text(encoding="utf-8")
    assert "# Code generated" + second == CALENDAR_FILE.read_text(encoding="utf-8")


def test_crd_output_is_the_operators_crds(kron: Cli) -> None:
    crds = list(yaml.safe_load_all(kron("crd").out))
    assert [c["kind"] for c in crds] == ["CustomResourceDefinition"] * 2
    assert [c["metadata"]["name"] for c in crds] == [
        "scheduledtasks.kron.dev",
        "calendars.kron.dev",
    ]
