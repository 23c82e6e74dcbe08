"""The bench's requests outlast a loaded API server: throttling and timeouts are asked
again, a create that finds its object is done, anything else ends the run."""

from __future__ import annotations

import types
from typing import Any

import pytest

from bench.phases import Bench
from kron.k8s.api import ApiError


class FlakyApi:
    def __init__(self, *failures: ApiError) -> None:
        self.failures = list(failures)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def request(self, method: str, path: str, **options: Any) -> None:
        self.calls.append((method, options))
        if self.failures:
            raise self.failures.pop(0)


async def retrying(api: FlakyApi, method: str, attempts: int = 5, **options: Any) -> None:
    bench: Any = types.SimpleNamespace(api=api)
    await Bench._retrying(bench, method, "/x", {}, attempts=attempts, pause=0.0, **options)


TIMEOUT = ApiError(504, "Timeout", "request did not complete within the allotted timeout")


async def test_a_timed_out_delete_is_asked_again_with_its_options() -> None:
    api = FlakyApi(TIMEOUT, TIMEOUT)
    await retrying(api, "DELETE", request_timeout=300.0)
    assert api.calls == [("DELETE", {"body": {}, "request_timeout": 300.0})] * 3


async def test_the_last_attempt_s_error_ends_it() -> None:
    api = FlakyApi(TIMEOUT, TIMEOUT, TIMEOUT)
    with pytest.raises(ApiError):
        await retrying(api, "DELETE", attempts=3)
    assert len(api.calls) == 3


async def test_a_refusal_is_not_asked_again() -> None:
    api = FlakyApi(ApiError(403, "Forbidden", "no"))
    with pytest.raises(ApiError):
        await retrying(api, "DELETE")
    assert len(api.calls) == 1


async def test_a_create_that_finds_its_object_is_done_a_delete_is_not() -> None:
    exists = ApiError(409, "AlreadyExists", "there")
    await retrying(FlakyApi(exists), "POST")
    with pytest.raises(ApiError):
        await retrying(FlakyApi(exists), "DELETE")
