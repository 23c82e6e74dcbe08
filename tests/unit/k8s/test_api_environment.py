"""The client reads proxy settings once at connect, never per request."""

from __future__ import annotations

import pytest
from kubernetes.aio import client as kclient

from kron.k8s.api import pin_environment


def configuration(host: str = "https://10.0.0.1:6443") -> kclient.Configuration:
    config = kclient.Configuration()
    config.host = host
    return config


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_session_never_consults_the_environment_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_proxies(monkeypatch)
    config = configuration()
    pin_environment(config)
    assert config.client_session_kwargs == {"trust_env": False}
    assert config.proxy is None


def test_https_proxy_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    config = configuration()
    pin_environment(config)
    assert config.proxy == "http://proxy.example:3128"
    assert config.proxy_headers["Proxy-Authorization"].startswith("Basic ")


def test_no_proxy_still_bypasses(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.1")
    config = configuration()
    pin_environment(config)
    assert config.proxy is None


def test_a_kubeconfig_proxy_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    config = configuration()
    config.proxy = "http://from-kubeconfig:8080"
    pin_environment(config)
    assert config.proxy == "http://from-kubeconfig:8080"


def test_other_session_options_survive(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    config = configuration()
    config.client_session_kwargs = {"read_bufsize": 1024}
    pin_environment(config)
    assert config.client_session_kwargs == {"read_bufsize": 1024, "trust_env": False}
