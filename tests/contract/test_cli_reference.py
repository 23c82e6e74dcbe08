"""The CLI reference page is generated from the parsers, complete, and kept fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from kron.cli.knobs import knobs
from kron.cli.main import build_parser
from kron.cli.reference import PAGE_PATH, main, render_page

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_page_is_what_the_parsers_generate() -> None:
    page = (REPO / PAGE_PATH).read_text(encoding="utf-8")
    assert page == render_page(), "CLI reference is stale: run `make manifests`"


def test_every_command_has_a_section() -> None:
    page = render_page()
    parser = build_parser("kron", plugin=False)
    (verbs,) = [a for a in parser._actions if a.dest == "verb"]
    assert verbs.choices
    for name in verbs.choices:
        assert f"\n## `kron {name}`\n" in page
    assert "\n## `kron calendar generate`\n" in page
    assert "\n## `kubectl kron`\n" in page


def test_every_setting_of_kron_run_is_listed_with_its_variable() -> None:
    run = render_page().split("\n## `kron run`\n", 1)[1].split("\n## ", 1)[0]
    for knob in knobs():
        assert f"| `{knob.flag}`" in run, knob.flag
        assert knob.env.replace("_", "\\_") in run, knob.env


def test_the_page_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    narrow = render_page()
    monkeypatch.setenv("COLUMNS", "250")
    assert render_page() == narrow


def test_check_fails_on_drift_and_write_repairs_it(tmp_path: Path) -> None:
    (tmp_path / PAGE_PATH).parent.mkdir(parents=True)
    assert main(["--check", "--root", str(tmp_path)]) == 1  # no page yet
    assert main(["--write", "--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / PAGE_PATH
    page.write_text(page.read_text(encoding="utf-8").replace("--qps", "--qsp"), encoding="utf-8")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert main(["--write", "--root", str(tmp_path)]) == 0
    assert page.read_text(encoding="utf-8") == render_page()


def test_a_directory_that_is_not_the_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--write", "--root", str(tmp_path)])
    assert exited.value.code == 2
