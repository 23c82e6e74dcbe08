"""JSON merge patches (RFC 7386) between what the server has and what kron wants.

Status is written as a merge patch computed against the last status seen from the
server: unchanged fields are not sent, and a field kron cleared (say
`nextScheduleTime` of a suspended task) is sent as null, since omitting it would
leave the old value in place. Lists are replaced whole, as merge patches do.
"""

from __future__ import annotations

from typing import Any


def merge_patch(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The smallest merge patch that turns `current` into `desired` ({} if equal)."""
    patch: dict[str, Any] = {}
    for key, value in desired.items():
        old = current.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            nested = merge_patch(old, value)
            if nested:
                patch[key] = nested
        elif old != value or key not in current:
            patch[key] = value
    for key in current:
        if key not in desired:
            patch[key] = None
    return patch


def apply_merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """What the server does with a merge patch (used to keep the local view exact)."""
    result = dict(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = apply_merge_patch(result[key], value)
        else:
            result[key] = value
    return result
