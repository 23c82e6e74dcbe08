"""API failures of the plugin verbs become one line a user can act on."""

from __future__ import annotations

from typing import Any

import pytest

from kron.cli.cluster import Object, get_task, patch_task
from kron.cli.errors import CliError
from kron.k8s.api import ApiError


class FakeApi:
    """Answers every task call with ``error``; discovery says whether the CRD exists."""

    host = "https://127.0.0.1:6443"

    def __init__(self, error: ApiError, *, crd: bool = True) -> None:
        self.error = error
        self.crd = crd
        self.calls: list[str] = []

    async def request(self, method: str, path: str, **_: Any) -> Object:
        self.calls.append(f"{method} {path}")
        if not self.crd:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"resources": [{"name": "scheduledtasks"}, {"name": "scheduledtasks/status"}]}

    async def get_task(self, namespace: str, name: str) -> Object:
        raise self.error

    async def patch_task(self, namespace: str, name: str, patch: Object) -> Object:
        raise self.error


NOT_FOUND = ApiError(404, "NotFound", 'scheduledtasks.kron.dev "nightly" not found')


async def test_missing_task() -> None:
    with pytest.raises(CliError) as caught:
        await get_task(FakeApi(NOT_FOUND), "team-a", "nightly")
    assert caught.value.message == 'scheduledtask "nightly" not found in namespace "team-a"'


async def test_missing_crd_is_told_apart_from_a_missing_task() -> None:
    api = FakeApi(
        ApiError(404, "NotFound", "the server could not find the requested resource"), crd=False
    )
    with pytest.raises(CliError) as caught:
        await patch_task(api, "team-a", "nightly", {})
    assert "CRD (scheduledtasks.kron.dev) is not installed" in caught.value.message
    assert "kron crd | kubectl apply" in caught.value.message
    assert api.calls == ["GET /apis/kron.dev/v1alpha1"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ApiError(
                403,
                "Forbidden",
                'scheduledtasks.kron.dev "nightly" is forbidden: User "bob" cannot patch\n'
                'resource "scheduledtasks" in API group "kron.dev"',
            ),
            'forbidden: scheduledtasks.kron.dev "nightly" is forbidden: User "bob" cannot patch '
            'resource "scheduledtasks" in API group "kron.dev"',
        ),
        (ApiError(401, "Unauthorized", "Unauthorized"), "unauthorized: the API server rejected"),
        (
            ApiError(0, "ClientConnectorError", "Cannot connect to host 127.0.0.1:6443"),
            "cannot reach the API server at https://127.0.0.1:6443: Cannot connect",
        ),
        (ApiError(422, "Invalid", "spec.suspend: Invalid value"), "rejected by the API server"),
        (
            ApiError(500, "InternalError", "etcd timeout"),
            "the API server answered 500 InternalError: etcd timeout",
        ),
    ],
)
async def test_other_failures(error: ApiError, expected: str) -> None:
    with pytest.raises(CliError) as caught:
        await get_task(FakeApi(error), "team-a", "nightly")
    assert caught.value.message.startswith(expected)
    assert "\n" not in caught.value.message
