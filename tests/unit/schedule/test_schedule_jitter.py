"""Jitter: deterministic per (seed, nominal), bounded, never past the next nominal."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_support import instant

from kron.schedule import compile_timeline, jitter_offset


def test_jitter_is_a_pure_function_of_seed_and_nominal() -> None:
    first = jitter_offset("0f6b-uid", 1_900_000_000, 300)
    assert jitter_offset("0f6b-uid", 1_900_000_000, 300) == first
    assert jitter_offset("other-uid", 1_900_000_000, 300) != first
    assert jitter_offset("0f6b-uid", 1_900_000_060, 300) != first


def test_jitter_recipe_is_sha256_of_seed_and_nominal() -> None:
    # The recipe is part of the contract: replicas, restarts and releases agree.
    digest = hashlib.sha256(b"task-uid\x1f1900000000").digest()
    millis = int.from_bytes(digest[:8], "big") % 60_000
    assert jitter_offset("task-uid", 1_900_000_000, 60) == millis / 1000


def test_zero_jitter_is_zero() -> None:
    assert jitter_offset("uid", 1_900_000_000, 0) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    seed=st.text(max_size=40),
    nominal=st.integers(0, 10**11),
    jitter=st.integers(1, 86_400),
)
def test_jitter_lies_in_range_with_millisecond_resolution(
    seed: str, nominal: int, jitter: int
) -> None:
    offset = jitter_offset(seed, nominal, jitter)
    assert 0 <= offset < jitter
    assert round(offset * 1000) / 1000 == offset


def test_jitter_spreads_over_its_range() -> None:
    offsets = [jitter_offset(f"task-{i}", 1_900_000_000, 100) for i in range(2000)]
    buckets = [0] * 10
    for offset in offsets:
        buckets[int(offset // 10)] += 1
    assert min(buckets) > 120  # ~200 expected in each tenth


def test_fire_at_adds_the_jitter_to_the_nominal_time() -> None:
    timeline = compile_timeline(schedules=["0 * * * *"], jitter_seconds=120, jitter_seed="uid")
    tick = timeline.next_tick(instant("2030-01-01T00:30:00Z"))
    assert tick is not None
    assert tick.fire_at == tick.nominal + jitter_offset("uid", tick.nominal, 120)


def test_jitter_is_never_pushed_past_the_next_nominal_time() -> None:
    timeline = compile_timeline(schedules=["* * * * * *"], jitter_seconds=300, jitter_seed="uid")
    for tick in timeline.ticks(instant("2030-01-01T00:00:00Z"), instant("2030-01-01T00:01:00Z")):
        assert tick.nominal <= tick.fire_at <= tick.nominal + 0.999


def test_jitter_cap_counts_excluded_ticks_as_next_nominal() -> None:
    timeline = compile_timeline(
        schedules=["*/2 * * * * *"], exclude=["* * * * *"], jitter_seconds=60, jitter_seed="x"
    )
    tick = timeline.next_tick(0)
    assert tick is not None and tick.excluded
    assert tick.fire_at <= tick.nominal + 1.999


def test_last_tick_gets_the_full_jitter() -> None:
    at = instant("2030-01-01T00:00:00Z")
    one_off = compile_timeline(
        schedules=["@at 2030-01-01T00:00:00Z"], jitter_seconds=3600, jitter_seed="uid"
    )
    tick = one_off.next_tick(0)
    assert tick is not None
    assert tick.fire_at == at + jitter_offset("uid", at, 3600)
    windowed = compile_timeline(
        schedules=["* * * * *"], end=at, jitter_seconds=3600, jitter_seed="uid"
    )
    last = windowed.prev_tick(at + 1)
    assert last is not None and last.nominal == at
    assert last.fire_at == at + jitter_offset("uid", at, 3600)


def test_jitter_capped_tick_is_the_same_from_every_query() -> None:
    timeline = compile_timeline(schedules=["*/5 * * * * *"], jitter_seconds=30, jitter_seed="u")
    after = instant("2030-01-01T00:00:00Z")
    via_next = timeline.next_tick(after)
    via_prev = timeline.prev_tick(after + 6)
    via_ticks = next(iter(timeline.ticks(after, after + 5)))
    via_upcoming = timeline.upcoming(after, 1)[0]
    assert via_next == via_prev == via_ticks == via_upcoming
