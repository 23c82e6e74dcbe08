"""The lines of a watch stream, each a JSON event, read without a line-length limit
the stream's own readline has (128 KiB) but with one of kron's (MAX_EVENT_BYTES)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Final

from kron.k8s.errors import ApiError

Object = dict[str, Any]

MAX_EVENT_BYTES: Final = 8 * 1024 * 1024
"""Longest watch event line read (etcd keeps objects up to 1.5 MiB)."""


async def events(chunks: AsyncIterator[bytes]) -> AsyncIterator[Object]:
    """The JSON objects of a watch stream, one per line. Lines are split here rather
    than with the stream's readline, which refuses lines over 128 KiB."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            event = decode(line)
            if event is not None:
                yield event
        if len(buffer) > MAX_EVENT_BYTES:
            raise ApiError(0, "EventTooLarge", f"a watch event over {MAX_EVENT_BYTES} bytes")
    event = decode(bytes(buffer))
    if event is not None:
        yield event


def decode(line: bytes) -> Object | None:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
