"""Readable views of a JSON Schema for docs: return shapes, nested outlines, example values.

Pure functions over plain dicts. The words around them live in `stubs_templates/`; these only
produce the structural parts (type names, paths, values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mcp_gateway.codemode.schema_types import Schema, annotation, resolve

__all__ = ["OutlineRow", "example_value", "one_line", "outline", "shape", "summary"]

MAX_SHAPE_CHARS = 400
MAX_OUTLINE_ROWS = 80
# C0 and C1 controls, Unicode spaces and separators, format characters, lone surrogates.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\xa0\xad\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ud800-\udfff]"
)
# A sentence ends at ". ", "! " or "? " unless the word before is a common abbreviation.
_SENTENCE_END = re.compile(r"[.!?](?= )")
_ABBREVIATIONS = (" e.g.", " i.e.", " etc.", " vs.", "(e.g.", "(i.e.")
_EXAMPLE_STRINGS = {
    "date-time": "2025-01-31T12:00:00Z",
    "date": "2025-01-31",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def one_line(text: str | None) -> str:
    """`text` with every control character and line break folded into single spaces.

    Stub comments must stay on one line, and `str.splitlines()` (used to count lines) breaks on
    more characters than Python's tokenizer does, so all of them go.
    """
    if not text:
        return ""
    if not text.isprintable():
        text = _UNPRINTABLE.sub(" ", text)
        if not text.isprintable():  # rarer oddities, character by character
            text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def summary(text: str | None, limit: int = 120) -> str:
    """The first sentence of a description, on one line, at most `limit` characters."""
    if not text:
        return ""
    # Only the head can matter; cleaning a 20 kB description to keep 120 characters is waste.
    head = text[: limit * 4]
    cut = head.find("\n\n")
    flat = one_line(head if cut < 0 else head[:cut])
    for match in _SENTENCE_END.finditer(flat):
        end = match.end()
        if not flat[max(0, end - 5) : end].lower().endswith(_ABBREVIATIONS):
            flat = flat[:end]
            break
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def shape(schema: Any, root: Schema, depth: int = 0) -> str:
    """A compact return shape such as `{id: str, items: list[{name: str, size?: int}]}`.

    `?` marks an optional key. Objects nest up to three levels; the whole is capped at
    `MAX_SHAPE_CHARS` characters.
    """
    text = _shape(schema, root, depth)
    return text if len(text) <= MAX_SHAPE_CHARS else text[: MAX_SHAPE_CHARS - 4] + " ...}"


def _shape(schema: Any, root: Schema, depth: int) -> str:
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return "Any"
    props = schema.get("properties")
    if isinstance(props, dict) and props:
        if depth >= 3:
            return "dict"
        required = set(schema.get("required") or ())
        fields = [
            f"{name}{'' if name in required else '?'}: {_shape(sub, root, depth + 1)}" for name, sub in props.items()
        ]
        return "{" + ", ".join(fields) + "}"
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict):
        return f"list[{_shape(items, root, depth)}]"
    return annotation(schema, root)


@dataclass(frozen=True, slots=True)
class OutlineRow:
    """One nested field for the docs: `path` like `parent.page_id` or `children[].type`."""

    path: str
    type: str
    required: bool
    description: str
    enum: tuple[Any, ...] | None = None
    default: Any = None
    has_default: bool = False


def outline(schema: Any, root: Schema, prefix: str = "", depth: int = 0) -> list[OutlineRow]:
    """Rows for the properties nested inside `schema` (objects and arrays of objects)."""
    rows: list[OutlineRow] = []
    _outline(schema, root, prefix, depth, rows)
    return rows


def _outline(schema: Any, root: Schema, prefix: str, depth: int, rows: list[OutlineRow]) -> None:
    schema = resolve(schema, root)
    if not isinstance(schema, dict) or depth > 3:
        return
    if schema.get("type") == "array" or "items" in schema:
        _outline(schema.get("items"), root, prefix + "[]", depth + 1, rows)
        return
    for key in ("anyOf", "oneOf"):
        for member in schema.get(key) or ():
            _outline(member, root, prefix, depth + 1, rows)
    props = schema.get("properties")
    if not isinstance(props, dict):
        return
    required = set(schema.get("required") or ())
    for name, sub in props.items():
        if len(rows) >= MAX_OUTLINE_ROWS:
            return
        target = resolve(sub, root)
        target = target if isinstance(target, dict) else {}
        enum = target.get("enum")
        rows.append(
            OutlineRow(
                path=f"{prefix}.{name}" if prefix else str(name),
                type=annotation(target, root),
                required=name in required,
                description=one_line(target.get("description")),
                enum=tuple(enum) if isinstance(enum, list) else None,
                default=target.get("default"),
                has_default="default" in target,
            )
        )
        _outline(target, root, f"{prefix}.{name}" if prefix else str(name), depth + 1, rows)


def example_value(schema: Any, root: Schema, depth: int = 0) -> Any:
    """A plausible value for `schema`: its default, example, const or first enum value, else a
    placeholder of the right type."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict) or depth > 3:
        return None
    for key in ("default", "const"):
        if schema.get(key) is not None:
            return schema[key]
    for key in ("examples", "enum"):
        values = schema.get(key)
        if isinstance(values, list) and any(v is not None for v in values):
            return next(v for v in values if v is not None)
    for key in ("anyOf", "oneOf", "allOf"):
        members = [m for m in schema.get(key) or () if resolve(m, root) != {"type": "null"}]
        if members:
            return example_value(members[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        return _EXAMPLE_STRINGS.get(str(schema.get("format")), "...")
    if kind == "integer":
        minimum = schema.get("minimum")
        return int(minimum) if isinstance(minimum, int | float) and minimum > 1 else 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array" or "items" in schema:
        items = schema.get("items")
        return [example_value(items, root, depth + 1)] if isinstance(items, dict) and items else []
    props = schema.get("properties")
    if isinstance(props, dict):
        required = [n for n in schema.get("required") or () if n in props]
        return {n: example_value(props[n], root, depth + 1) for n in required}
    return None
