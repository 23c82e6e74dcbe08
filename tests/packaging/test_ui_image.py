"""A `kron ui` image: the Dockerfile's build-arg KRON_UI=1 adds the `ui` extra from its
own hashed lock (operator/ui-requirements.lock) to the same pip command as the runtime
lock, and without it adds nothing. With the packages that command installs, hash-checked,
and kron's wheel alone, `kron ui --auth bearer` serves its pages (templates included)."""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_image import REPO, instructions, run, wheel_and_empty_venv

from support.wait import wait_until

UI_LOCK = "operator/ui-requirements.lock"
SERVING = re.compile(r"serving (http://\S+)")


def venv_install_arguments(kron_ui: str) -> list[str]:
    """The arguments of the Dockerfile's pip install into /opt/kron, as its shell expands
    them with KRON_UI set to ``kron_ui``."""
    runs = [rest for word, rest in instructions() if word == "RUN"]
    (command,) = [
        part.strip()
        for rest in runs
        for part in rest.split("&&")
        if part.strip().startswith("/opt/kron/bin/pip install") and ".lock" in part
    ]
    expanded = subprocess.run(
        ["sh", "-c", f"printf '%s\\n' {command.removeprefix('/opt/kron/bin/pip ')}"],
        env={"KRON_UI": kron_ui, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return expanded.stdout.split()


def test_the_ui_build_arg_adds_the_ui_lock_to_the_hash_checked_install() -> None:
    steps = instructions()
    stages = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    build_args = [rest for word, rest in steps[stages[0] : stages[1]] if word == "ARG"]
    assert 'KRON_UI=""' in build_args, "KRON_UI is a build-stage argument, off by default"
    copied = " ".join(rest for word, rest in steps if word == "COPY")
    assert UI_LOCK in copied

    plain, with_ui = venv_install_arguments(""), venv_install_arguments("1")
    assert UI_LOCK not in plain
    assert with_ui == [*plain, "-r", UI_LOCK]
    assert "--require-hashes" in plain and "operator/requirements.lock" in plain


@pytest.mark.slow
def test_the_ui_serves_its_pages_with_the_locked_packages_only(tmp_path: Path) -> None:
    wheel, venv = wheel_and_empty_venv(tmp_path)
    python, kron = str(venv / "bin" / "python"), str(venv / "bin" / "kron")
    pip = [python, "-m", "pip"]
    # Exactly what the Dockerfile runs with KRON_UI=1 (paths relative to the checkout).
    install = [*pip, *venv_install_arguments("1")]
    assert install[len(pip)] == "install"
    run(["sh", "-c", 'cd "$0" && exec "$@"', str(REPO), *install])
    run([*pip, "install", "--quiet", "--no-deps", str(wheel)])
    run([*pip, "check"])

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        ui = subprocess.Popen(
            [kron, "ui", "--auth", "bearer", "--kubeconfig", str(kubeconfig), "-n", "team"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"},
        )
    try:

        def address() -> str | None:
            assert ui.poll() is None, log.read_text()
            found = SERVING.search(log.read_text())
            return found.group(1).rstrip("/") if found else None

        base = wait_until(address, timeout=30, message="kron ui started from the venv")
        with urllib.request.urlopen(base + "/healthz", timeout=5) as health:
            assert b'"ok": true' in health.read()
        request = urllib.request.Request(
            base + "/ns/team", headers={"Authorization": "Bearer someone"}
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=30)
        page = answer.value.read().decode()
        assert answer.value.code == 502  # no API server there: said on a rendered page
        assert "Cannot list tasks" in page and "<!doctype html>" in page
        with urllib.request.urlopen(base + "/static/app.js", timeout=5) as script:
            assert b"EventSource" in script.read()
    finally:
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=15)
