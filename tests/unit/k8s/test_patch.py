"""Merge patches: applying the computed patch gives exactly the desired object."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kron.k8s.patch import apply_merge_patch, merge_patch

leaf = st.one_of(
    st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=3)
)
objects = st.recursive(
    st.dictionaries(st.sampled_from("abcde"), leaf, max_size=4),
    lambda children: st.dictionaries(
        st.sampled_from("abcde"), st.one_of(leaf, children), max_size=4
    ),
    max_leaves=12,
)


@given(objects, objects)
def test_applying_the_patch_yields_the_desired_object(
    current: dict[str, Any], desired: dict[str, Any]
) -> None:
    assert apply_merge_patch(current, merge_patch(current, desired)) == desired


def test_cleared_field_is_sent_as_null_and_unchanged_fields_are_not_sent() -> None:
    current = {"nextScheduleTime": "2026-01-01T00:00:00Z", "counts": {"fired": 3, "missed": 0}}
    desired = {"counts": {"fired": 4, "missed": 0}}
    assert merge_patch(current, desired) == {"nextScheduleTime": None, "counts": {"fired": 4}}


def test_equal_objects_need_no_patch() -> None:
    assert merge_patch({"a": [1, 2], "b": {"c": 1}}, {"a": [1, 2], "b": {"c": 1}}) == {}
