"""kron's API client against the real API server: every failure is an ApiError."""

from __future__ import annotations

import pytest

from kron.k8s.api import ApiError, KubeApi
from support.cluster import ClusterHandle


async def test_an_api_the_server_does_not_serve_is_a_not_found_api_error(
    cluster: ClusterHandle,
) -> None:
    """The API server answers plain text ("404 page not found") for a group it does not
    serve, as for kron's own before the CRD is installed: callers must see an ApiError
    they can retry, not a JSON decoding error."""
    api = await KubeApi.connect(cluster.kubeconfig)
    try:
        with pytest.raises(ApiError) as raised:
            await api.request("GET", "/apis/nothing.kron.dev/v1/namespaces/default/widgets")
    finally:
        await api.close()
    assert raised.value.not_found
    assert "not found" in raised.value.message
