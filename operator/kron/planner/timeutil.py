"""Conversions between the planner's Unix-second floats and the API's datetimes.

The schedule engine and the planner count in Unix seconds (cheap to compare and
hash); the status subresource speaks RFC 3339. These two helpers are the only
crossing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kron.api import format_time

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC).replace(microsecond=0)
_EARLIEST_SECONDS = EARLIEST.timestamp()
_LATEST_SECONDS = LATEST.timestamp()


def to_time(seconds: float) -> datetime:
    """An aware UTC datetime, rounded to the millisecond (status precision).

    Saturating: instants before year 1 or after 9999 (a deadline or a backoff
    added to a far date) become the first or last instant a datetime holds.
    """
    if not seconds > _EARLIEST_SECONDS:  # also NaN
        return EARLIEST
    if seconds >= _LATEST_SECONDS:
        return LATEST
    return datetime.fromtimestamp(round(seconds, 3), tz=UTC)


def to_seconds(value: datetime) -> float:
    return value.timestamp()


def to_int_seconds(value: datetime) -> int:
    return int(value.timestamp() // 1)


def rfc3339(seconds: float) -> str:
    """An instant as kubectl shows it (`2026-01-01T00:00:00Z`), for event messages."""
    return format_time(to_time(seconds))
