"""Building blocks of the admission policy's CEL: literals, quoting and the phrases every
message shares. Each returns CEL source text; nothing here is evaluated in Python."""

from typing import Final

from kron.api.policy.model import POLICY_KIND

MAX_QUOTED: Final = 100
"""Longest user text quoted in a message (an annotation can be 256 KiB)."""


def literal(text: str) -> str:
    """``text`` as a CEL single-quoted string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quoted(expression: str) -> str:
    """CEL for ``"<text>"``, cut to MAX_QUOTED characters."""
    cut = (
        f"(size({expression}) > {MAX_QUOTED} ? {expression}.substring(0, {MAX_QUOTED}) + '...'"
        f" : {expression})"
    )
    return f"'\"' + {cut} + '\"'"


def numbers(count: int) -> str:
    """CEL list ``[0, 1, ..., count - 1]`` (CEL has no range)."""
    return "[" + ", ".join(str(i) for i in range(count)) + "]"


def smaller(a: str, b: str) -> str:
    """CEL: the smaller of two integers."""
    return f"({a} < {b} ? {a} : {b})"


def set_by(limit: str) -> str:
    """CEL: ``(<limit> of ScheduledTaskPolicy <name>)`` for the end of a message."""
    return f"' ({limit} of {POLICY_KIND} ' + params.metadata.name + ')'"
