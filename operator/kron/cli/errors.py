"""The two ways a kron command fails, so that every failure is one line on stderr.

A `CliError` is bad input or a refused request (exit 1); a `UsageError` is a command
line that does not make sense (exit 2, like argparse). The entry points catch both
and print ``<prog>: <message>``; nothing else reaches the user as a traceback.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")
_MAX_MESSAGE = 400


def one_line(text: object, limit: int = _MAX_MESSAGE) -> str:
    """``text`` with every run of whitespace (newlines too) collapsed, shortened."""
    flat = _WHITESPACE.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class CliError(Exception):
    """A problem reported as one line: what was wrong, naming the field or object."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))
        self.message = one_line(message)


class UsageError(CliError):
    """The command line itself is wrong (unknown flag, missing argument, bad value)."""

    exit_code = 2

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog
