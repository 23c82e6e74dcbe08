"""Jitter: deterministic per (seed, nominal), bounded, reduced to the interval to the
next nominal (so it spreads over it and never reaches the next tick)."""

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


def test_jitter_recipe_reduces_the_hash_modulo_the_interval_when_that_is_shorter() -> None:
    digest = hashlib.sha256(b"task-uid\x1f1900000000").digest()
    value = int.from_bytes(digest[:8], "big")
    assert jitter_offset("task-uid", 1_900_000_000, 3600, interval=60) == value % 60_000 / 1000
    # Not shorter: the interval changes nothing (fire times of existing tasks stay).
    assert jitter_offset("task-uid", 1_900_000_000, 60, interval=3600) == value % 60_000 / 1000
    assert jitter_offset("task-uid", 1_900_000_000, 60, interval=60) == value % 60_000 / 1000


def test_jitter_longer_than_the_interval_spreads_over_the_whole_interval() -> None:
    # Every minute, up to a day of jitter: delays are spread evenly over each minute
    # (before, they all sat 1 ms before the next tick).
    timeline = compile_timeline(schedules=["* * * * *"], jitter_seconds=86_400, jitter_seed="u")
    start = instant("2030-01-01T00:00:00Z")
    delays = [tick.fire_at - tick.nominal for tick in timeline.ticks(start, start + 2000 * 60)]
    assert len(delays) == 2000
    assert all(0 <= delay < 60 for delay in delays)
    buckets = [0] * 6
    for delay in delays:
        buckets[int(delay // 10)] += 1
    assert min(buckets) > 250  # ~333 expected in each sixth of the minute


def test_jitter_interval_follows_uneven_ticks() -> None:
    # 09:00 Monday and 17:00 Friday: the Monday tick may move up to its 4 day 8 h
    # interval, the Friday one up to 2 days 16 h, both within the 5-day jitter.
    timeline = compile_timeline(
        schedules=["0 9 * * 1", "0 17 * * 5"], jitter_seconds=5 * 86_400, jitter_seed="x"
    )
    monday = instant("2030-01-07T09:00:00Z")
    friday = instant("2030-01-11T17:00:00Z")
    ticks = list(timeline.ticks(monday - 1, friday))
    assert [tick.nominal for tick in ticks] == [monday, friday]
    assert ticks[0].fire_at == monday + jitter_offset("x", monday, 5 * 86_400, friday - monday)
    following = instant("2030-01-14T09:00:00Z")
    assert ticks[1].fire_at == friday + jitter_offset("x", friday, 5 * 86_400, following - friday)
    assert ticks[0].fire_at < friday and ticks[1].fire_at < following


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
