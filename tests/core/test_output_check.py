"""The quick output-schema pass: it says "valid" only when the SDK's full check would agree."""

from __future__ import annotations

from typing import Any

import mcp_types as types
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for
from referencing import Registry

from mcp_gateway.upstream.output_check import OutputCheck

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
TOOLS = (
    types.Tool(name="typed", input_schema={"type": "object"}, output_schema=SCHEMA),
    types.Tool(name="plain", input_schema={"type": "object"}),
    types.Tool(name="broken", input_schema={"type": "object"}, output_schema={"type": "no-such-type"}),
)


def _result(structured: dict[str, object] | None = None, *, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[], structured_content=structured, is_error=is_error)


def test_conforming_results_pass_and_everything_else_goes_to_the_sdk() -> None:
    check = OutputCheck(TOOLS)
    assert check.plainly_valid("typed", _result({"n": 3}))
    assert check.plainly_valid("plain", _result())
    assert check.plainly_valid("typed", _result(is_error=True))  # error results are never checked
    assert not check.plainly_valid("typed", _result({"n": "many"}))
    assert not check.plainly_valid("typed", _result())  # structured content missing
    assert not check.plainly_valid("broken", _result({"n": 3}))  # the SDK reports the schema
    assert not check.plainly_valid("unlisted", _result())  # the SDK re-lists and decides


# Schemas whose keywords the two validators could read differently: formats, patterns, refs,
# 2020-12 applicators, numbers.
AGREEMENT_SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
    {"type": "object", "properties": {"d": {"type": "string", "pattern": r"^\d+$"}}},
    {"type": "object", "properties": {"w": {"type": "string", "pattern": r"^\w{1,3}$"}}},
    {"type": "object", "$defs": {"n": {"type": "integer", "minimum": 0}}, "properties": {"n": {"$ref": "#/$defs/n"}}},
    {"type": "object", "properties": {"xs": {"type": "array", "prefixItems": [{"type": "string"}], "items": False}}},
    {"type": "object", "properties": {"v": {"type": "number", "multipleOf": 0.1}}, "unevaluatedProperties": False},
    {"type": "object", "properties": {"u": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 2}]}}},
]

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
OBJECTS = st.dictionaries(st.sampled_from(["email", "d", "w", "n", "xs", "v", "u", "other"]), VALUES, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(AGREEMENT_SCHEMAS))), OBJECTS)
def test_the_quick_pass_is_never_more_lenient_than_the_sdk_check(index: int, value: dict[str, Any]) -> None:
    schema = AGREEMENT_SCHEMAS[index]
    check = OutputCheck([types.Tool(name="t", input_schema={"type": "object"}, output_schema=schema)])
    if check.plainly_valid("t", _result(value)):
        assert validator_for(schema)(schema, registry=Registry()).is_valid(value), (schema, value)


def test_a_remote_ref_is_left_to_the_sdk_and_nothing_is_fetched() -> None:
    schema = {"type": "object", "properties": {"x": {"$ref": "https://example.invalid/x.json"}}}
    check = OutputCheck([types.Tool(name="t", input_schema={"type": "object"}, output_schema=schema)])
    assert not check.plainly_valid("t", _result({"x": 1}))


def test_formats_are_not_asserted_as_the_sdk_does_not_assert_them() -> None:
    schema = AGREEMENT_SCHEMAS[0]
    check = OutputCheck([types.Tool(name="t", input_schema={"type": "object"}, output_schema=schema)])
    assert check.plainly_valid("t", _result({"email": "not an address"}))
