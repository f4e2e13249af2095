"""JSON Schema -> Python type annotations for stub lines.

The mapping (also in `docs/codemode.md`): `string` -> `str`, `integer` -> `int`, `number` ->
`float`, `boolean` -> `bool`, `null` -> `None`, `array` -> `list[T]`, `object` -> `dict`; `enum`
and `const` -> `Literal[...]` (up to `MAX_LITERALS` values, else the base type); `anyOf`/`oneOf`
and type lists -> unions of up to `MAX_UNION` members, else `Any`; local `$ref`s are followed.
Everything else, or anything nested deeper than `MAX_DEPTH`, is `Any`. The output is always a valid
Python expression, since stubs must parse.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_LITERALS",
    "MAX_UNION",
    "Schema",
    "annotation",
    "is_nullable",
    "py_literal",
    "resolve",
]

Schema = Mapping[str, Any]

MAX_DEPTH = 6
MAX_LITERALS = 8
MAX_UNION = 4

_SIMPLE = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
# Characters str.splitlines() treats as line ends but JSON leaves raw: they would shift the line
# numbers readToolFile reports.
_RAW_LINE_ENDS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\x85"}

_Atom = str | tuple[Any, ...]
"""A union member: an annotation, or a tuple of literal values still to be merged."""


def py_literal(value: Any) -> str:
    """`value` (a JSON value) as Python source text on one line."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "None"
    if isinstance(value, str):
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return f'"{value}"'  # the common case, without json.dumps
        text = json.dumps(value, ensure_ascii=False)
        for raw, escaped in _RAW_LINE_ENDS.items():
            text = text.replace(raw, escaped)
        return text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    return "None"


def resolve(schema: Any, root: Schema, depth: int = 0) -> Any:
    """Follow local `$ref`s (`#/...` JSON pointers) from `schema`; unresolvable ones give `{}`."""
    if type(schema) is dict and "$ref" not in schema:  # the common case, on the hot path
        return schema
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < MAX_DEPTH:
        ref: str = schema["$ref"]
        if not ref.startswith("#"):
            return {}
        target: Any = root
        for raw in ref[1:].split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return {}
        schema = target
        depth += 1
    return schema


def is_nullable(schema: Any, root: Schema) -> bool:
    """True when `null` is a valid value for `schema` (so passing None means "send null")."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return schema is True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or schema.get("nullable") is True:
        return True
    if None in (schema.get("enum") or ()) or ("const" in schema and schema["const"] is None):
        return True
    return any(is_nullable(m, root) for key in ("anyOf", "oneOf") for m in schema.get(key) or ())


def annotation(schema: Any, root: Schema) -> str:
    """The Python annotation for `schema`; `root` resolves `$ref`s."""
    if type(schema) is dict:  # fast path for the plain `{"type": "string", ...}` most params are
        kind = schema.get("type")
        if (
            type(kind) is str
            and "enum" not in schema
            and "const" not in schema
            and "anyOf" not in schema
            and "oneOf" not in schema
            and "allOf" not in schema
            and "$ref" not in schema
        ):
            simple = _SIMPLE.get(kind)
            if simple is not None:
                return simple
            if kind == "object":
                return "dict"
    return _format(_atoms(schema, root, 0))


def _atoms(schema: Any, root: Schema, depth: int) -> list[_Atom]:
    schema = resolve(schema, root)
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return ["Any"]
    if "const" in schema:
        return [(schema["const"],)] if _literal_ok(schema["const"]) else ["Any"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        if len(enum) <= MAX_LITERALS and all(_literal_ok(v) for v in enum):
            return [tuple(enum)]
        schema = {k: v for k, v in schema.items() if k != "enum"}
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list) and members:
            return [a for m in members for a in _atoms(m, root, depth + 1)]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of and "type" not in schema and "properties" not in schema:
        # An intersection: objects merge into a dict; anything else is as its first member.
        parts = [_atoms(m, root, depth + 1) for m in all_of]
        return ["dict"] if all(p == ["dict"] for p in parts) else parts[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        return [a for k in kind for a in _atoms({**schema, "type": k}, root, depth + 1)]
    if kind in _SIMPLE:
        return [_SIMPLE[kind]]
    if kind == "array" or (kind is None and "items" in schema):
        items = schema.get("items")
        if isinstance(items, dict) and items:
            return [f"list[{_format(_atoms(items, root, depth + 1))}]"]
        return ["list"]
    if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
        return ["dict"]
    return ["Any"]


def _literal_ok(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _format(atoms: list[_Atom]) -> str:
    if len(atoms) == 1 and type(atoms[0]) is str:
        return atoms[0]  # the common case: one plain annotation
    literals: dict[tuple[type, Any], Any] = {}  # keyed by type too: True == 1 in Python
    names: list[str] = []
    has_none = False
    for atom in atoms:
        if isinstance(atom, tuple):
            for v in atom:
                if v is None:
                    has_none = True
                else:
                    literals.setdefault((type(v), v), v)
        elif atom == "None":
            has_none = True
        elif atom not in names:
            names.append(atom)
    if "Any" in names:
        return "Any"
    members = names[:]
    if literals:
        if len(literals) <= MAX_LITERALS:
            members.insert(0, "Literal[" + ", ".join(py_literal(v) for v in literals.values()) + "]")
        else:
            members = list(dict.fromkeys([*members, *(_SIMPLE[_json_type(v)] for v in literals.values())]))
    if len(members) > MAX_UNION:
        return "Any"
    if has_none:
        members.append("None")
    return " | ".join(members) if members else "None"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"
