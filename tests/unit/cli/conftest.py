"""Run the `kron` CLI in-process and capture what it prints."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import datetime

import pytest
from cli_support import Cli, Result

from kron.cli import clock, kubectl_main, main


@pytest.fixture
def kron(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``kron("next", "@hourly")`` runs ``main`` (``plugin=True``: ``kubectl_main``)."""

    def run(*argv: str, stdin: str | None = None, plugin: bool = False) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = (kubectl_main if plugin else main)(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the CLI's clock to an RFC 3339 instant."""

    def freeze(instant: str) -> None:
        seconds = datetime.fromisoformat(instant).timestamp()
        monkeypatch.setattr(clock, "now", lambda: seconds)

    return freeze
