"""A quick pass for results that conform to their tool's output schema.

The SDK client checks every tool result against the tool's output schema, and the gateway's lean
call paths ask it to (`ClientSession.validate_tool_result`). Its check looks for the best error
message even when there is none (`best_match(iter_errors(...))`), which costs several times a
plain `is_valid`; this module answers "valid" with `is_valid` and leaves everything else (no
structured content, a failing value, a broken schema) to the SDK, so its errors stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mcp_types as types
from jsonschema import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry

__all__ = ["OutputCheck"]


class OutputCheck:
    """Compiled output-schema validators for one listing's tools, built on first use."""

    def __init__(self, tools: Sequence[types.Tool] = ()) -> None:
        self._schemas: Mapping[str, dict[str, Any] | None] = {t.name: t.output_schema for t in tools}
        self._validators: dict[str, Validator | None] = {}

    def plainly_valid(self, tool: str, result: types.CallToolResult) -> bool:
        """True when `result` needs no further check: an error result, a tool without an output
        schema, or structured content its schema accepts. False: ask the SDK."""
        if result.is_error:
            return True
        if tool not in self._schemas:
            return False  # unknown to this listing: the SDK refreshes and decides
        schema = self._schemas[tool]
        if schema is None:
            return True
        if result.structured_content is None:
            return False
        if tool not in self._validators:
            self._validators[tool] = _compile(schema)
        validator = self._validators[tool]
        return validator is not None and validator.is_valid(result.structured_content)


def _compile(schema: dict[str, Any]) -> Validator | None:
    """The validator the SDK would build (empty registry: `$ref`s stay inside the schema)."""
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return None  # the SDK reports the broken schema
    validator: Validator = cls(schema, registry=Registry())
    return validator
