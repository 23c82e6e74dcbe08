"""Which kubeconfig, context and namespace a plugin verb uses: kubectl's rules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kron.cli.errors import CliError
from kron.cli.kubeconfig import Target, resolve_target


def kubeconfig(path: Path, current: str | None, contexts: dict[str, str | None]) -> Path:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": "c", "user": "u"} | ({"namespace": ns} if ns else {}),
            }
            for name, ns in contexts.items()
        ],
    }
    if current is not None:
        body["current-context"] = current
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def resolve(
    home: Path,
    *,
    environ: dict[str, str] | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
) -> Target:
    return resolve_target(
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        environ=environ or {},
        home=home,
        account_dir=home / "no-account",
    )


def test_namespace_of_the_current_context(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "k", "dev", {"dev": "team-a", "prod": None})
    assert resolve(tmp_path, kubeconfig=str(config)) == Target(str(config), "dev", "team-a")


def test_context_without_namespace_means_default(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "k", "prod", {"dev": "team-a", "prod": None})
    assert resolve(tmp_path, kubeconfig=str(config)).namespace == "default"


def test_context_flag_and_namespace_flag_win(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "k", "prod", {"dev": "team-a", "prod": None})
    assert resolve(tmp_path, kubeconfig=str(config), context="dev").namespace == "team-a"
    target = resolve(tmp_path, kubeconfig=str(config), context="dev", namespace="x")
    assert (target.context, target.namespace) == ("dev", "x")


def test_home_kube_config_is_the_default(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    config = kubeconfig(tmp_path / ".kube" / "config", "dev", {"dev": "team-a"})
    assert resolve(tmp_path) == Target(str(config), "dev", "team-a")


def test_kubeconfig_list_first_file_to_set_a_value_wins(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "a", "one", {"one": "ns-first", "shared": "from-a"})
    second = kubeconfig(tmp_path / "b", "two", {"two": "ns-second", "shared": "from-b"})
    listed = os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)])
    target = resolve(tmp_path, environ={"KUBECONFIG": listed})
    assert target == Target(os.pathsep.join([str(first), str(second)]), "one", "ns-first")
    assert resolve(tmp_path, environ={"KUBECONFIG": listed}, context="shared").namespace == "from-a"
    assert resolve(tmp_path, environ={"KUBECONFIG": listed}, context="two").namespace == "ns-second"


def test_in_cluster_without_kubeconfig_uses_the_pod_namespace(tmp_path: Path) -> None:
    account = tmp_path / "account"
    account.mkdir()
    (account / "token").write_text("t", encoding="utf-8")
    (account / "namespace").write_text("kron-system", encoding="utf-8")
    target = resolve_target(
        kubeconfig=None,
        context=None,
        namespace=None,
        environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1"},
        home=tmp_path,
        account_dir=account,
    )
    assert target == Target(None, None, "kron-system")


@pytest.mark.parametrize(
    ("setup", "flags", "mentions"),
    [
        ("none", {}, "no kubeconfig"),
        ("none", {"kubeconfig": "/nonexistent/kubeconfig"}, "no such file"),
        ("no-current", {}, "no current context"),
        ("ok", {"context": "staging"}, "context 'staging' not found"),
        ("garbage", {}, "not a valid kubeconfig"),
    ],
)
def test_unusable_configuration_is_one_line(
    tmp_path: Path, setup: str, flags: dict[str, str | None], mentions: str
) -> None:
    (tmp_path / ".kube").mkdir()
    config = tmp_path / ".kube" / "config"
    if setup == "no-current":
        kubeconfig(config, None, {"dev": None})
    elif setup == "ok":
        kubeconfig(config, "dev", {"dev": None})
    elif setup == "garbage":
        config.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CliError) as caught:
        resolve(tmp_path, kubeconfig=flags.get("kubeconfig"), context=flags.get("context"))
    assert mentions in caught.value.message
