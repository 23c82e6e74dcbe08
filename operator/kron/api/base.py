"""Shared building blocks of the API models: base classes and the time type.

Every model serialises the same way the API server stores objects: camelCase
keys, optional fields omitted rather than null, times as RFC 3339 in UTC with a
trailing ``Z``. Spec models refuse unknown fields (a typo must not be silently
ignored); status models ignore them, so an older operator can read status written
by a newer one.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def format_time(value: datetime) -> str:
    """Render an aware datetime as RFC 3339 in UTC, ``Z`` suffix (the Kubernetes form)."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _require_offset(value: datetime) -> datetime:
    # RFC 3339 has no local times; the API server rejects them too, so a naive value
    # can only come from Python callers, where guessing a zone would hide a bug.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a UTC offset or Z (RFC 3339)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # The API server admits 0001-01-01T00:00:00+01:00 and 9999-12-31T23:59:59-05:00,
        # which lie outside what datetime holds in UTC. Both are far outside the years
        # ticks exist in (1800-9998), so the nearest instant means the same.
        return EARLIEST if value.year == 1 else LATEST


UtcDateTime = Annotated[
    datetime,
    AfterValidator(_require_offset),
    PlainSerializer(format_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An instant: parsed from RFC 3339 (any offset), held in UTC, written with ``Z``."""


class SchemaExtra:
    """Annotation adding keys (CEL rules, list types) to a type's JSON schema.

    ``Field(json_schema_extra=...)`` only works on a model field; this also works
    on a list's item type, e.g. ``list[Annotated[str, SchemaExtra({...})]]``.
    """

    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = extra

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.extra)
        return schema


class ApiModel(BaseModel):
    """Base of every API model: camelCase aliases, construction by either name."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
    )

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready dict the API server expects (aliases, no nulls, RFC 3339 times)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    @classmethod
    def from_api(cls, obj: Any) -> Self:
        """Parse a JSON-like dict as read from the API server (or a manifest)."""
        return cls.model_validate(obj)


class SpecModel(ApiModel):
    """A user-written part of the API: unknown fields are errors.

    Fields that default to an empty map or object (template labels, for instance)
    are left out of the serialised form while empty, as the API server stores them,
    so that serialising what was read gives back exactly what was read.
    """

    model_config = ConfigDict(extra="forbid")

    @model_serializer(mode="wrap")
    def _omit_empty_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        for name, field in type(self).model_fields.items():
            if field.default_factory is None:
                continue
            for key in (name, field.alias):
                if key in data and data[key] in ({}, []):
                    del data[key]
        return data


class StatusModel(ApiModel):
    """An operator-written part of the API: unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")
