"""`kron crd` prints the CRD users apply from crds/, byte for byte."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_support import Cli

CRD_FILE = Path(__file__).resolve().parents[3] / "crds" / "kron.dev_scheduledtasks.yaml"


def test_crd_prints_the_committed_crd(kron: Cli) -> None:
    result = kron("crd")
    assert (result.code, result.err) == (0, "")
    assert result.out == CRD_FILE.read_text(encoding="utf-8")


def test_crd_output_is_a_crd_document(kron: Cli) -> None:
    crd = yaml.safe_load(kron("crd").out)
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == "scheduledtasks.kron.dev"
