"""How a failed API call is told apart: retryable, fenced, a conflict, not found."""

from __future__ import annotations

from typing import Final

RETRYABLE_CODES: Final = frozenset({0, 408, 425, 429, 500, 502, 503, 504})
FENCED: Final = "Fenced"


class ApiError(Exception):
    """A failed API call: the HTTP code (0 if none came back) and the server's reason."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_CODES and not self.fenced

    @property
    def fenced(self) -> bool:
        """Refused before sending: this replica may not write (see `KubeApi.fence`)."""
        return self.status == 0 and self.reason == FENCED

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def conflict(self) -> bool:
        return self.status == 409 and self.reason != "AlreadyExists"

    @property
    def not_found(self) -> bool:
        return self.status == 404
