"""The API reference page (docs/reference/api.md), rendered from the CRD schema.

Generated from the same schema as the CRD (so from the models' descriptions), it
cannot drift from what ``kubectl explain`` shows: ``make verify`` fails if the
page's generated section is stale. Its headings are level 2, under the page's title.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

START_MARKER = "<!-- api-reference:start -->"
END_MARKER = "<!-- api-reference:end -->"


def _escape(text: str) -> str:
    """Markdown-safe table cell text (no pipes, emphasis or tags)."""
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("<", "&lt;")):
        text = text.replace(char, escaped)
    return text


def _type(node: Mapping[str, Any]) -> str:
    kind = str(node.get("type", "object"))
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    if kind == "array":
        items = node.get("items", {})
        text = f"[]{_type(items) if 'enum' not in items else 'string'}"
        low, high = node.get("minItems"), node.get("maxItems")
        if low is not None or high is not None:
            text += f" ({low or 0}..{high if high is not None else ''})"
        return text
    if kind == "string" and node.get("format") == "date-time":
        return "time (RFC 3339)"
    if kind == "object" and "additionalProperties" in node:
        return f"map[string]{_type(node['additionalProperties'])}"
    if kind == "object" and node.get("x-kubernetes-preserve-unknown-fields"):
        return "object (free-form)"
    if kind in ("integer", "number") and ("minimum" in node or "maximum" in node):
        low, high = node.get("minimum", ""), node.get("maximum", "")
        return f"{kind} {low}..{high}"
    return kind


def _default(node: Mapping[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    value = node["default"]
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == {}:
        return "`{}`"
    return f"`{value}`"


def _objects(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every documented object node, depth first, with its API path."""
    if node.get("type") == "array":
        yield from _objects(node.get("items", {}), f"{path}[]")
        return
    if "properties" not in node or node.get("x-kubernetes-preserve-unknown-fields"):
        return
    yield path, node
    for name, child in node["properties"].items():
        yield from _objects(child, f"{path}.{name}")


def _table(path: str, node: Mapping[str, Any]) -> list[str]:
    lines = [f"## `{path}`", "", _escape(node.get("description", "")), ""]
    rules = [rule["message"] for rule in node.get("x-kubernetes-validations", [])]
    if rules:
        lines += ["Rules: " + "; ".join(_escape(message) for message in rules) + ".", ""]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    required = set(node.get("required", ()))
    for name, child in node["properties"].items():
        cells = [
            f"`{name}`",
            _type(child),
            _default(child, name in required),
            _escape(child.get("description", "")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _admission(checks: Sequence[str], leniencies: Sequence[str]) -> list[str]:
    return [
        "## Schedule expressions at admission",
        "",
        "`kubectl apply` rejects a malformed `schedule`, `schedules[i]` or "
        "`excludeSchedules[i]` with a message naming the item and what is expected:",
        "",
        *(f"- {_escape(message)}" for message in checks),
        "",
        "A few mistakes pass admission and are reported by the operator as condition "
        "`Ready=False` (reason `InvalidSchedule` or `InvalidTimeZone`):",
        "",
        *(f"- {_escape(text)}" for text in leniencies),
        "",
    ]


def render_reference(
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    checks: Sequence[str] = (),
    leniencies: Sequence[str] = (),
) -> str:
    """Markdown for the spec and status schemas (the text between the page's markers)."""
    lines = [
        "Generated from the models in `operator/kron/api` by `make manifests`; "
        "`kubectl explain scheduledtask.spec` shows the same descriptions.",
        "",
    ]
    for root, schema in (("spec", spec), ("status", status)):
        for path, node in _objects(schema, root):
            lines += _table(path, node)
    if checks:
        lines += _admission(checks, leniencies)
    return "\n".join(lines)


def render_tables(root: str, schema: Mapping[str, Any]) -> str:
    """Markdown tables for every object of ``schema``, named from ``root``."""
    lines: list[str] = []
    for path, node in _objects(schema, root):
        lines += _table(path, node)
    return "\n".join(lines)


def replace_section(document: str, body: str) -> str:
    """``document`` with the text between the markers replaced by ``body``."""
    start = document.find(START_MARKER)
    end = document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"no {START_MARKER} ... {END_MARKER} section to fill in")
    return f"{document[: start + len(START_MARKER)]}\n{body}\n{document[end:]}"
