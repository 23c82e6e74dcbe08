"""Zones: loading, and the offset-change table the DST rule is built on."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
import zoneinfo._zoneinfo as pure
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_support import first_instant_showing, instant

from kron.schedule import TimeZoneError, load_zone
from kron.schedule.zones import _SAMPLE_STEP, zone_table


def test_load_zone_returns_the_cached_iana_zone() -> None:
    zone = load_zone("Europe/Berlin")
    assert zone is load_zone("Europe/Berlin")
    assert zone.key == "Europe/Berlin"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Mars/Base", "unknown IANA time zone (e.g. Europe/Berlin)"),
        ("america/new_york_city", "unknown IANA time zone (e.g. Europe/Berlin)"),
        ("America", "unknown IANA time zone (e.g. Europe/Berlin)"),
        ("", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
        ("../etc/passwd", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
        ("/etc/localtime", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
        ("localtime", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
        ("right/UTC", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
        ("UTC ", "not a valid IANA time zone name (e.g. Europe/Berlin)"),
    ],
)
def test_load_zone_rejects_unknown_or_unsafe_names(name: str, reason: str) -> None:
    with pytest.raises(TimeZoneError) as caught:
        load_zone(name)
    assert caught.value.reason == reason
    assert caught.value.expression == name


@pytest.mark.parametrize(
    ("zone", "year", "expected"),
    [
        (
            "America/New_York",
            2024,
            [("2024-03-10T07:00:00Z", -18000, -14400), ("2024-11-03T06:00:00Z", -14400, -18000)],
        ),
        (
            "Australia/Lord_Howe",
            2024,
            [("2024-04-06T15:00:00Z", 39600, 37800), ("2024-10-05T15:30:00Z", 37800, 39600)],
        ),
        (
            "Pacific/Apia",
            2011,
            [
                ("2011-04-02T14:00:00Z", -36000, -39600),
                ("2011-09-24T14:00:00Z", -39600, -36000),
                ("2011-12-30T10:00:00Z", -36000, 50400),  # across the date line
            ],
        ),
        ("Asia/Kolkata", 2024, []),
        ("UTC", 2024, []),
    ],
)
def test_transitions_are_found_to_the_second(
    zone: str, year: int, expected: list[tuple[str, int, int]]
) -> None:
    found = zone_table(zone).transitions(year)
    assert found == [(instant(at), before, after) for at, before, after in expected]


@pytest.mark.parametrize(
    ("zone", "year"),
    [
        ("Europe/London", 1971),
        ("America/Santiago", 2016),
        ("Asia/Tehran", 2021),
        ("Australia/Lord_Howe", 1985),
        ("Africa/Casablanca", 2019),  # Ramadan: DST suspended and resumed within the year
        ("America/Sao_Paulo", 2018),
        ("Europe/Moscow", 2011),
        ("Pacific/Kiritimati", 1994),
    ],
)
def test_transitions_agree_with_hourly_sampling_of_zoneinfo(zone: str, year: int) -> None:
    info = ZoneInfo(zone)

    def offset(seconds: int) -> int:
        delta = dt.datetime.fromtimestamp(seconds, info).utcoffset()
        assert delta is not None
        return int(delta.total_seconds())

    begin = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
    sampled = {
        moment for moment in range(begin, end, 3600) if offset(moment) != offset(moment - 3600)
    }
    found = zone_table(zone).transitions(year)
    assert len(found) == len(sampled)
    for at, before, after in found:
        assert offset(at - 1) == before != after == offset(at)
        # the hourly sample that first sees the change is the next whole hour
        assert begin + -(-(at - begin) // 3600) * 3600 in sampled


def test_segments_cover_time_with_the_zone_offset() -> None:
    table = zone_table("Australia/Lord_Howe")
    info = ZoneInfo("Australia/Lord_Howe")
    moment = instant("2024-03-01T00:00:00Z")
    while moment < instant("2024-12-01T00:00:00Z"):
        segment = table.segment(moment)
        assert segment.start <= moment < segment.end
        delta = dt.datetime.fromtimestamp(moment, info).utcoffset()
        assert delta is not None and segment.offset == delta.total_seconds()
        moment += 7919  # a prime step, so many times of day are visited


def test_no_two_offset_changes_of_the_installed_tzdata_are_closer_than_the_sampling_step() -> None:
    """The zone tables sample offsets every _SAMPLE_STEP: two changes closer than that
    (there and back) would be missed. This reads every zone's explicit transitions
    with the pure-Python zoneinfo (private, but the only reader of them there is)."""
    closest = None
    for name in sorted(zoneinfo.available_timezones()):
        zone = pure.ZoneInfo.no_cache(name)
        previous = zone._tti_before.utcoff if zone._tti_before else None
        changes = []
        for when, info in zip(zone._trans_utc, zone._ttinfos, strict=True):
            if info.utcoff != previous:
                changes.append(when)
            previous = info.utcoff
        for a, b in itertools.pairwise(changes):
            if closest is None or b - a < closest[0]:
                closest = (b - a, name)
    assert closest is not None
    assert closest[0] > _SAMPLE_STEP, closest


FIRST_REACHING_ZONES = (
    *("UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"),
    *("Pacific/Apia", "America/Santiago", "Africa/Cairo", "Pacific/Chatham"),
)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(FIRST_REACHING_ZONES),
    year=st.integers(1901, 2100),
    near_a_change=st.booleans(),
    delta=st.integers(-7200, 7200),
)
def test_first_reaching_is_where_a_wall_time_first_occurs_or_its_gap_ends(
    zone: str, year: int, near_a_change: bool, delta: int
) -> None:
    table = zone_table(zone)
    changes = table.transitions(year)
    if near_a_change and changes:
        at, before, _ = changes[0]
        wall = at + before + delta
    else:
        wall = instant(f"{year}-06-15T12:00:00+00:00") + delta
    naive = dt.datetime.fromtimestamp(wall, dt.UTC).replace(tzinfo=None)
    assert table.first_reaching(wall) == first_instant_showing(naive, zone)
