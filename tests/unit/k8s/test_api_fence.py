"""The write fence: once a replica's Lease has lapsed by its own clock, nothing it
queued earlier reaches the API server."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kron.k8s.api import ApiError, KubeApi
from kron.k8s.leader import LeaseElector


class Response:
    status = 200

    async def read(self) -> bytes:
        return b"{}"


class Client:
    """The kubernetes.aio ApiClient surface KubeApi.request uses, recording calls."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def param_serialize(self, **kwargs: Any) -> tuple[Any, ...]:
        return (kwargs["method"], kwargs["resource_path"], {}, kwargs.get("body"), None)

    async def call_api(self, method: str, url: str, **_: Any) -> Response:
        self.sent.append(method)
        return Response()


def api(fence: bool | None) -> tuple[KubeApi, Client]:
    client = Client()
    kube = KubeApi(cast(Any, client))
    if fence is not None:
        kube.fence = lambda: fence
    return kube, client


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
async def test_writes_are_refused_while_the_fence_is_down(method: str) -> None:
    kube, client = api(fence=False)
    with pytest.raises(ApiError) as refused:
        await kube.request(method, "/apis/batch/v1/namespaces/a/jobs", body={})
    assert refused.value.fenced and not refused.value.retryable
    assert client.sent == []


async def test_reads_pass_the_fence_and_writes_pass_while_it_is_up() -> None:
    kube, client = api(fence=False)
    await kube.request("GET", "/api/v1/pods")
    kube.fence = lambda: True
    await kube.request("POST", "/apis/batch/v1/namespaces/a/jobs", body={})
    assert client.sent == ["GET", "POST"]


async def test_without_a_fence_everything_is_sent() -> None:
    kube, client = api(fence=None)
    await kube.request("DELETE", "/api/v1/namespaces/a/pods/p")
    assert client.sent == ["DELETE"]


def test_a_leader_may_write_only_until_its_renew_deadline_by_its_own_clock() -> None:
    now = [100.0]
    elector = LeaseElector(
        cast(KubeApi, object()),
        namespace="ns",
        name="lease",
        identity="me",
        lease_duration=15,
        renew_deadline=10,
        retry_period=2,
        on_started=lambda: None,
        on_stopped=lambda: None,
        clock=lambda: now[0],
    )
    assert not elector.may_write()  # not leading
    elector._leading = True
    elector._renewed_at = 100.0
    now[0] = 109.9
    assert elector.may_write()
    now[0] = 110.0  # a pause (SIGSTOP) past the deadline: writes stop before anything runs
    assert not elector.may_write()
