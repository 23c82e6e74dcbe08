"""Instants as people read them: RFC 3339 with the task's zone offset, and durations.

The API stores UTC (``...Z``); `kron next` and `kron history` show the offset of
the zone the schedule is read in, so a nightly 03:00 job reads as 03:00.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from kron.schedule import TimeZoneError, load_zone


def format_instant(seconds: float, zone: ZoneInfo, *, millis: bool = False) -> str:
    """``seconds`` (Unix) as RFC 3339 in ``zone``: ``2026-03-08T03:00:00-04:00``.

    With ``millis`` the fraction is always shown (``.250``): jittered fire times are
    computed to the millisecond.
    """
    whole, ms = divmod(round(seconds * 1000), 1000)
    moment = datetime.fromtimestamp(whole, zone)
    if not millis:
        return moment.isoformat()
    return moment.replace(microsecond=ms * 1000).isoformat(timespec="milliseconds")


def format_datetime(value: datetime, zone: ZoneInfo, *, millis: bool = False) -> str:
    return format_instant(value.timestamp(), zone, millis=millis)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant (offset or ``Z`` required), for argparse ``type=``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 instant: {text!r} (e.g. 2026-03-08T03:00:00-04:00)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset or Z")
    return value


def floor_seconds(value: datetime) -> int:
    """Whole Unix seconds at or before ``value`` (ticks are whole seconds)."""
    return math.floor(value.timestamp())


def display_zone(name: str | None) -> ZoneInfo:
    """The zone to show a task's times in; UTC when its zone is unusable."""
    try:
        return load_zone(name or "UTC")
    except TimeZoneError:
        return load_zone("UTC")


def format_duration(seconds: float) -> str:
    """Like kubectl's ages: ``45s``, ``3m12s``, ``2h5m``, ``4d3h``."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"
