"""Proxy settings for the API client, resolved once."""

from __future__ import annotations

import contextlib

from aiohttp.helpers import get_env_proxy_for_url
from kubernetes.aio import client as kclient
from yarl import URL


def pin_environment(configuration: kclient.Configuration) -> None:
    """Read proxy settings from the environment once, here, instead of per request.

    kubernetes.aio opens its aiohttp session with `trust_env=True`, so every request
    looked up HTTP(S)_PROXY/NO_PROXY and parsed ~/.netrc in a worker thread before
    it was sent: about a tenth of the operator's CPU on the fire path, plus a thread
    hop per create. The environment is resolved once at connect (a proxy a
    kubeconfig names wins, as before); netrc credentials are never used for the API
    server, whose auth is the kubeconfig's or the service account's.
    """
    if not configuration.proxy:
        with contextlib.suppress(LookupError):
            proxy, auth = get_env_proxy_for_url(URL(str(configuration.host)))
            configuration.proxy = str(proxy)
            if auth is not None:
                configuration.proxy_headers = {"Proxy-Authorization": auth.encode()}
    extra = dict(configuration.client_session_kwargs or {})
    extra["trust_env"] = False
    configuration.client_session_kwargs = extra
