"""The quick output-schema pass: it says "valid" only when the SDK's full check would agree."""

from __future__ import annotations

import mcp_types as types

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
