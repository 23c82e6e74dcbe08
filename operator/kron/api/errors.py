"""Validation errors as one line per problem, each naming the field.

Pydantic reports locations as tuples; users know fields by their API path
(``spec.schedules[1]``). The error ``type`` tells the operator which condition
reason to report (``invalid_schedule`` -> InvalidSchedule, ``invalid_time_zone``
-> InvalidTimeZone).
"""

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    """One problem with one field."""

    path: str
    message: str
    type: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("spec", "schedules", 1)`` -> ``spec.schedules[1]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def field_errors(error: ValidationError) -> list[FieldError]:
    """Every problem in ``error``, located by API field path."""
    problems = []
    for detail in error.errors(include_url=False):
        path = field_path(tuple(detail["loc"]))
        message = detail["msg"]
        if detail["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        context = detail.get("ctx") or {}
        if "subpath" in context:
            # An error deep inside a free-form template: extend the path, keep the detail.
            subpath = str(context["subpath"])
            if subpath:
                path = f"{path}.{subpath}" if path else subpath
            message = str(context["detail"])
        problems.append(FieldError(path, message, detail["type"]))
    return problems
