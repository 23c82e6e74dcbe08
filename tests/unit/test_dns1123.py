"""kron.dns1123 is the one check of Kubernetes names: what the API server accepts as a
namespace (a DNS-1123 label) and as an object name (a DNS-1123 subdomain), and nothing
else. The settings, the CLI, kron ui, run names and the Calendar schema all use it."""

from __future__ import annotations

import re

import pytest

from kron.api.calendar import NAME_PATTERN
from kron.dns1123 import is_label, is_subdomain


@pytest.mark.parametrize("name", ["a", "0", "team-a", "a1-b2", "x" * 63, "9lives", "a--b"])
def test_labels_the_api_server_takes(name: str) -> None:
    assert is_label(name) and is_subdomain(name)


@pytest.mark.parametrize(
    "name",
    ["", "x" * 64, "Team", "-a", "a-", "a_b", "a.b", "a b", "ä", "a\n", " a", "a/b", "a\x00"],
)
def test_labels_it_refuses(name: str) -> None:
    assert not is_label(name)


@pytest.mark.parametrize(
    "name", ["a.b", "kron-operator", "a.b-c.d", ".".join(["x" * 63] * 3) + "." + "y" * 61]
)
def test_object_names_it_takes(name: str) -> None:
    assert len(name) <= 253
    assert is_subdomain(name)


@pytest.mark.parametrize(
    "name", ["", ".a", "a.", "a..b", "A.b", "a.-b", "a_b.c", "x" * 254, "a.b/c", "a.b\n"]
)
def test_object_names_it_refuses(name: str) -> None:
    assert not is_subdomain(name)


def test_the_calendar_schema_pattern_is_the_same_rule() -> None:
    """The CRD's schema pattern (length is the schema's maxLength) agrees with the check."""
    for name in ("a.b", "team-a", "x" * 63, "A", "a..b", "-a", "a.", "a_b"):
        assert bool(re.search(NAME_PATTERN, name)) == is_subdomain(name), name
