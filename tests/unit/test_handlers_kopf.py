"""kron's kopf glue: only event handlers, so kopf's diff base can be skipped."""

from __future__ import annotations

from typing import Any
from unittest import mock

from kron.handlers import NoDiffBase, build_registry, kopf_settings
from kron.settings import Settings


def test_no_diff_base_is_built_or_stored() -> None:
    settings = kopf_settings(Settings())
    storage = settings.persistence.diffbase_storage
    assert isinstance(storage, NoDiffBase)
    body: Any = {"metadata": {"name": "x"}, "spec": {"big": list(range(100))}}
    assert storage.build(body=body) == {}
    assert storage.fetch(body=body) is None


def test_only_event_handlers_are_registered() -> None:
    """The diff base feeds on.create/update/field handlers and daemons/timers only:
    adding one of those must bring kopf's default storage back."""
    registry = build_registry(mock.Mock(), mock.Mock())
    assert registry._watching.get_all_handlers()
    assert not registry._changing.get_all_handlers()
    assert not registry._spawning.get_all_handlers()
