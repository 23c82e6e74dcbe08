"""An ArgumentParser that reports problems as exceptions instead of exiting.

argparse prints a usage block and calls ``sys.exit(2)``; kron prints one line and
lets its entry points decide the exit code, so tests can call ``main([...])``.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from kron.cli.errors import UsageError


class Parser(argparse.ArgumentParser):
    """Errors become `UsageError`; abbreviated long flags are not accepted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", prog=self.prog)
