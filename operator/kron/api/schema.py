"""Pydantic JSON schema -> Kubernetes structural schema.

Kubernetes accepts only a subset of OpenAPI v3 in a CRD ("structural schemas"):
every node has a type, there are no references, and ``anyOf``/``oneOf`` may only
repeat constraints. Pydantic emits references, ``anyOf [X, null]`` for optional
fields, ``const``, JSON-Schema-2020 exclusive bounds and titles. This module
rewrites one into the other, and refuses (rather than guesses) what it cannot
express.
"""

from collections.abc import Mapping
from typing import Any

# Keys that carry no meaning for Kubernetes, or that structural schemas forbid.
_DROPPED = frozenset({"title", "readOnly", "$defs", "examples"})


class SchemaError(ValueError):
    """The model's schema has a construct a structural schema cannot express."""


def to_structural(schema: Mapping[str, Any], *, keep_defaults: bool = True) -> dict[str, Any]:
    """Inline and rewrite a pydantic JSON schema into a structural CRD schema.

    ``keep_defaults=False`` drops every ``default`` (used for status, which only the
    operator writes: server-side defaults there would invent values it never set).
    """
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    return _rewrite(schema, definitions, keep_defaults, path="")


def _resolve(node: Mapping[str, Any], definitions: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Merge a ``$ref`` target with the keys beside the reference (which win)."""
    reference = node["$ref"]
    name = reference.removeprefix("#/$defs/")
    if name not in definitions:
        raise SchemaError(f"{path or '<root>'}: unresolvable reference {reference}")
    merged = dict(definitions[name])
    merged.update({k: v for k, v in node.items() if k != "$ref"})
    return merged


def _without_null(node: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``anyOf [X, null]`` -> X: optional fields are omitted, never null."""
    options = [option for option in node["anyOf"] if option.get("type") != "null"]
    if len(options) != 1:
        raise SchemaError(f"{path or '<root>'}: a union of several types is not structural")
    merged = dict(options[0])
    merged.update({k: v for k, v in node.items() if k != "anyOf"})
    if merged.get("default", ...) is None:
        del merged["default"]
    return merged


def _rewrite(
    node: Mapping[str, Any], definitions: Mapping[str, Any], keep_defaults: bool, path: str
) -> dict[str, Any]:
    while "$ref" in node or "anyOf" in node:
        node = _resolve(node, definitions, path) if "$ref" in node else _without_null(node, path)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "default" and not keep_defaults):
            continue
        if key == "properties":
            out[key] = {
                name: _rewrite(child, definitions, keep_defaults, f"{path}.{name}")
                for name, child in value.items()
            }
        elif key == "items":
            out[key] = _rewrite(value, definitions, keep_defaults, f"{path}[]")
        elif key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, Mapping):
                out[key] = _rewrite(value, definitions, keep_defaults, f"{path}.*")
            # `false` is the default of a structural schema (unknown fields are pruned).
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out[key.replace("exclusiveM", "m")] = value
            out[key] = True
        elif key == "required":
            out[key] = sorted(value)
        elif key in ("oneOf", "allOf", "not"):
            raise SchemaError(f"{path or '<root>'}: {key} is not supported in a CRD schema")
        else:
            out[key] = value
    if "type" not in out:
        if "properties" in out or out.get("x-kubernetes-preserve-unknown-fields"):
            out["type"] = "object"
        else:
            raise SchemaError(f"{path or '<root>'}: every node of a structural schema needs a type")
    return out
