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


# -- where it listens ---------------------------------------------------------------------


def test_by_default_each_run_listens_on_a_loopback_address_of_its_own() -> None:
    chosen = {ui_cli.listen_address(None, bearer=False, bindable=lambda _: True) for _ in range(20)}
    assert len(chosen) > 1, "a fresh address per run"
    for address in chosen:
        assert address.startswith("127.") and address != "127.0.0.1"
        assert is_loopback(address)
        assert not address.endswith((".0", ".255"))


def test_where_the_system_cannot_bind_one_it_falls_back_to_127_0_0_1() -> None:
    tried: list[str] = []

    def macos(address: str) -> bool:  # only 127.0.0.1 is configured there
        tried.append(address)
        return address == "127.0.0.1"

    assert ui_cli.listen_address(None, bearer=False, bindable=macos) == "127.0.0.1"
    assert len(tried) == 1 and tried[0] != "127.0.0.1"


def test_an_explicit_address_is_kept_and_bearer_mode_defaults_to_127_0_0_1() -> None:
    never = lambda _: pytest.fail("no probe for an explicit address")  # noqa: E731
    assert ui_cli.listen_address("127.0.0.1", bearer=False, bindable=never) == "127.0.0.1"
    assert ui_cli.listen_address("::1", bearer=False, bindable=never) == "::1"
    assert ui_cli.listen_address(None, bearer=True, bindable=never) == "127.0.0.1"


def test_this_system_lets_a_process_bind_any_loopback_address() -> None:
    """Linux routes all of 127/8 to lo: the probe the default relies on says yes."""
    assert ui_cli.can_bind(ui_cli.random_loopback())
    assert not ui_cli.can_bind("192.0.2.1")  # TEST-NET-1: on no interface here


@pytest.mark.parametrize(
    "url", ["kron.example.com", "https://kron.example.com/ui", "ftp://kron.example.com",
            "https://kron.example.com/?a=1", "https://user@kron.example.com", "https://"],
)  # fmt: skip
def test_a_public_url_that_is_not_an_origin_is_refused(kron: Cli, url: str) -> None:
    line = kron("ui", "--auth", "bearer", "--public-url", url).assert_one_line_error(2)
    assert "--public-url must be the origin users open" in line and repr(url) in line


def test_a_public_url_may_name_a_port_and_end_in_a_slash() -> None:
    assert ui_cli.is_origin("https://kron.example.com/")
    assert ui_cli.is_origin("http://kron.internal:8080")
    assert not ui_cli.is_origin("https://kron.example.com:99999")
