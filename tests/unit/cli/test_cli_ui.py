"""`kron ui`'s command line: never open by default, and a clear word when Jinja2 is missing."""

from __future__ import annotations

import importlib.util

import pytest
from cli_support import Cli

from kron.cli import ui as ui_cli
from kron.ui.security import is_loopback


def test_a_non_loopback_address_is_refused_with_the_kubeconfigs_rights(kron: Cli) -> None:
    line = kron("ui", "--address", "0.0.0.0").assert_one_line_error(2)
    assert line.startswith("kron ui: error: refusing to listen on 0.0.0.0: the page acts with")
    assert "--auth bearer" in line


def test_without_jinja2_kron_ui_says_how_to_install_it(
    kron: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        ui_cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jinja2" else real(name, *a),
    )
    line = kron("ui").assert_one_line_error(1)
    assert line == (
        "kron ui: error: kron ui needs Jinja2, an optional dependency: pip install 'kron[ui]'"
    )


def test_the_plugin_has_no_ui_verb(kron: Cli) -> None:
    assert kron("ui", plugin=True).code == 2


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False), ("::", False),
     ("example.com", False)],
)  # fmt: skip
def test_which_addresses_count_as_this_machine_only(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback
