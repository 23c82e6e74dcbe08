"""Errors of the schedule engine.

Admission, the planner's conditions and ``kron next`` all show these messages to a
person, so every error carries the offending text, the field it concerns and the
reason separately, and renders as exactly one printable ASCII line.
"""

from __future__ import annotations

import json

# Long inputs are shortened in messages so one bad object cannot produce a huge event.
_MAX_SHOWN = 80


def quote(text: str) -> str:
    """Quote ``text`` for a one-line message: escaped, ASCII only, shortened if long."""
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return json.dumps(text, ensure_ascii=True)


class ScheduleError(ValueError):
    """A schedule expression (or a schedule-related setting) is not valid.

    ``str(error)`` is one line, e.g.
    ``schedule "*/0 * * * *": minute: step must be at least 1``.
    """

    expression: str
    field: str | None
    reason: str
    label: str

    def __init__(
        self, expression: str, field: str | None, reason: str, *, label: str = "schedule"
    ) -> None:
        self.expression = expression
        self.field = field
        self.reason = reason
        self.label = label
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.label} {quote(self.expression)}"
        if self.field is None or self.field == self.label:
            return f"{head}: {self.reason}"
        return f"{head}: {self.field}: {self.reason}"

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle their args by default; keep the keyword-only label.
        return (_rebuild, (type(self), self.expression, self.field, self.reason, self.label))


def _rebuild(
    cls: type[ScheduleError], expression: str, field: str | None, reason: str, label: str
) -> ScheduleError:
    return cls(expression, field, reason, label=label)


class TimeZoneError(ScheduleError):
    """The time zone is not a known IANA zone name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, "timeZone", reason, label="timeZone")

    def __reduce__(self) -> tuple[object, ...]:
        return (TimeZoneError, (self.expression, self.reason))
