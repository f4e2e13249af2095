"""JSON Schema -> Python annotations, literals and doc helpers."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from mcp_gateway.codemode.schema_docs import example_value, one_line, outline, shape, summary
from mcp_gateway.codemode.schema_types import annotation, is_nullable, py_literal, resolve


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "str"),
        ({"type": "integer"}, "int"),
        ({"type": "number"}, "float"),
        ({"type": "boolean"}, "bool"),
        ({"type": "null"}, "None"),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, "dict"),
        ({"type": "array", "items": {"type": "string"}}, "list[str]"),
        ({"type": "array", "items": {"type": "object"}}, "list[dict]"),
        ({"type": "array"}, "list"),
        ({"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}, "list[list[int]]"),
        ({"enum": ["a", "b"]}, 'Literal["a", "b"]'),
        ({"type": "string", "enum": ["open", "closed"]}, 'Literal["open", "closed"]'),
        ({"enum": [1, 2, None]}, "Literal[1, 2] | None"),
        ({"type": "string", "enum": [str(i) for i in range(20)]}, "str"),
        ({"const": "x"}, 'Literal["x"]'),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "str | None"),
        ({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}, "str | list[str]"),
        ({"oneOf": [{"const": "a"}, {"const": "b"}]}, 'Literal["a", "b"]'),
        ({"type": ["string", "null"]}, "str | None"),
        ({"type": ["integer", "string", "boolean", "number", "object"]}, "Any"),
        ({"anyOf": [{"type": "string"}, {}]}, "Any"),
        ({}, "Any"),
        (True, "Any"),
        ({"allOf": [{"type": "object"}, {"properties": {}}]}, "dict"),
        ({"properties": {"a": {}}}, "dict"),
        ({"items": {"type": "string"}}, "list[str]"),
        ({"enum": [True, 1]}, "Literal[True, 1]"),
    ],
)
def test_annotation(schema: Any, expected: str) -> None:
    assert annotation(schema, {}) == expected
    ast.parse(expected, mode="eval")


def test_refs_are_followed_and_cycles_stop() -> None:
    root = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            },
            "Loop": {"$ref": "#/$defs/Loop"},
            "Color": {"enum": ["red", "green"]},
        }
    }
    assert annotation({"$ref": "#/$defs/Color"}, root) == 'Literal["red", "green"]'
    assert annotation({"type": "array", "items": {"$ref": "#/$defs/Node"}}, root) == "list[dict]"
    assert annotation({"$ref": "#/$defs/Loop"}, root) == "Any"
    assert annotation({"$ref": "#/$defs/Missing"}, root) == "Any"
    assert annotation({"$ref": "https://example.com/schema"}, root) == "Any"
    assert resolve({"$ref": "#/$defs/Color"}, root) == {"enum": ["red", "green"]}


def test_nullable() -> None:
    assert is_nullable({"type": ["string", "null"]}, {})
    assert is_nullable({"anyOf": [{"type": "string"}, {"type": "null"}]}, {})
    assert is_nullable({"type": "string", "nullable": True}, {})
    assert not is_nullable({"type": "string", "default": None}, {})


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'quote " and \\ backslash',
        "line\nbreak",
        "sep\u2028arator\x85",
        "ünï",
        1,
        -2.5,
        True,
        None,
        [1, "a"],
        {"k": [None]},
    ],
)
def test_py_literal_round_trips_on_one_line(value: Any) -> None:
    text = py_literal(value)
    assert len(text.splitlines()) == 1
    assert ast.literal_eval(text) == value


def test_py_literal_non_finite_floats() -> None:
    assert py_literal(float("nan")) == "None"


def test_one_line_removes_every_line_break() -> None:
    text = one_line("a\nb\r\nc\x0bd\x0ce\x1cf\u2028g\u2029h\x85i\x00j\ud800k")
    assert len(text.splitlines()) == 1
    assert text == "a b c d e f g h i j k"


def test_summary_is_the_first_sentence() -> None:
    assert summary("Create an issue. Then more.") == "Create an issue."
    assert summary("Use e.g. this form. Next.") == "Use e.g. this form."
    assert summary("First paragraph without stop\n\nSecond paragraph.") == "First paragraph without stop"
    assert summary("") == ""
    long = "word " * 200
    assert len(summary(long)) <= 120 and summary(long).endswith("…")


def test_shape_and_outline() -> None:
    schema = {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string"}, "size": {"type": "integer", "description": "Bytes."}},
                },
            },
            "next": {"type": ["string", "null"]},
        },
    }
    assert shape(schema, schema) == "{items: list[{id: str, size?: int}], next?: str | None}"
    rows = outline(schema, schema)
    assert [(r.path, r.type, r.required) for r in rows] == [
        ("items", "list[dict]", True),
        ("items[].id", "str", True),
        ("items[].size", "int", False),
        ("next", "str | None", False),
    ]
    assert rows[2].description == "Bytes."


def test_example_values() -> None:
    root: dict[str, Any] = {}
    assert example_value({"type": "string", "format": "date-time"}, root) == "2025-01-31T12:00:00Z"
    assert example_value({"type": "integer", "minimum": 5}, root) == 5
    assert example_value({"type": "string", "enum": ["b", "a"]}, root) == "b"
    assert example_value({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, root) is True
    assert example_value(
        {
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "array", "items": {"type": "number"}}, "b": {}},
        },
        root,
    ) == {"a": [1.0]}
