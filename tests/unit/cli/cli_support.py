"""Shared by the CLI unit tests: what one in-process run of the CLI printed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def assert_one_line_error(self, code: int) -> str:
        """Exit ``code``, nothing on stdout, exactly one line on stderr; returns it."""
        assert "Traceback" not in self.err
        assert self.code == code, (self.code, self.err)
        assert self.out == ""
        assert self.err.endswith("\n")
        assert len(self.err.splitlines()) == 1, self.err
        return self.err.strip()


Cli = Callable[..., Result]
