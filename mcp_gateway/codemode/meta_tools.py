"""The four meta-tools: their definitions and the checking of their arguments.

Names and argument names are fixed (agents know them from Bifrost); descriptions come from
`stubs_templates/meta_tools.j2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mcp_types as types

from mcp_gateway.codemode.texts import Texts
from mcp_gateway.config.models import SandboxSettings

__all__ = [
    "EXECUTE_TOOL_CODE",
    "GET_TOOL_DOCS",
    "LIST_TOOL_FILES",
    "META_TOOL_NAMES",
    "READ_TOOL_FILE",
    "ArgumentProblem",
    "MetaArgs",
    "meta_tool_definitions",
    "parse_arguments",
]

LIST_TOOL_FILES = "listToolFiles"
READ_TOOL_FILE = "readToolFile"
GET_TOOL_DOCS = "getToolDocs"
EXECUTE_TOOL_CODE = "executeToolCode"
META_TOOL_NAMES = frozenset({LIST_TOOL_FILES, READ_TOOL_FILE, GET_TOOL_DOCS, EXECUTE_TOOL_CODE})


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    kind: type
    required: bool = False


_PARAMS: dict[str, tuple[_Param, ...]] = {
    LIST_TOOL_FILES: (_Param("query", str),),
    READ_TOOL_FILE: (
        _Param("fileName", str, required=True),
        _Param("startLine", int),
        _Param("endLine", int),
    ),
    GET_TOOL_DOCS: (_Param("server", str, required=True), _Param("tool", str, required=True)),
    EXECUTE_TOOL_CODE: (_Param("code", str, required=True),),
}
_JSON_TYPES = {str: "string", int: "integer"}
_READ_ONLY = frozenset({LIST_TOOL_FILES, READ_TOOL_FILE, GET_TOOL_DOCS})


def meta_tool_definitions(texts: Texts, sandbox: SandboxSettings) -> list[types.Tool]:
    """The four `Tool` definitions, in the order an agent uses them."""
    tools = []
    for name, params in _PARAMS.items():
        properties: dict[str, Any] = {}
        for p in params:
            prop: dict[str, Any] = {
                "type": _JSON_TYPES[p.kind],
                "description": texts.meta(f"{name}__{p.name}", limits=sandbox, engine=sandbox.engine),
            }
            if p.kind is int:
                prop["minimum"] = 1
            properties[p.name] = prop
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [p.name for p in params if p.required]
        if required:
            schema["required"] = required
        tools.append(
            types.Tool(
                name=name,
                description=texts.meta(name, limits=sandbox, engine=sandbox.engine),
                input_schema=schema,
                annotations=types.ToolAnnotations(
                    read_only_hint=name in _READ_ONLY,
                    destructive_hint=False if name in _READ_ONLY else None,
                    open_world_hint=name == EXECUTE_TOOL_CODE,
                ),
            )
        )
    return tools


class ArgumentProblem(Exception):
    """A meta-tool got arguments it cannot use; the message is for the model."""


@dataclass(frozen=True, slots=True)
class MetaArgs:
    """Checked arguments of one meta-tool call; absent optional ones are None."""

    values: Mapping[str, str | int | None]

    def text(self, name: str) -> str | None:
        """A string argument."""
        value = self.values.get(name)
        return value if isinstance(value, str) else None

    def number(self, name: str) -> int | None:
        """An integer argument."""
        value = self.values.get(name)
        return value if isinstance(value, int) else None


def parse_arguments(tool: str, arguments: Mapping[str, Any] | None, texts: Texts) -> MetaArgs:
    """Check `arguments` of meta-tool `tool`, or raise `ArgumentProblem` with a readable message.

    Lenient where intent is clear: whole numbers given as strings or floats are accepted, and
    null counts as absent.
    """
    params = _PARAMS[tool]
    expected = [{"name": p.name, "type": _JSON_TYPES[p.kind], "required": p.required} for p in params]

    def problem(kind: str, names: list[str] | None = None) -> ArgumentProblem:
        """`kind`: not_object, unknown, required, not_string, not_integer (worded in messages.j2)."""
        text = texts.message("bad_arguments", tool=tool, problem=kind, names=names or [], expected=expected)
        return ArgumentProblem(text)

    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise problem("not_object")
    known = {p.name for p in params}
    unknown = sorted(str(k) for k in arguments if k not in known)
    if unknown:
        raise problem("unknown", unknown)
    values: dict[str, str | int | None] = {}
    for p in params:
        value = arguments.get(p.name)
        if value is None:
            if p.required:
                raise problem("required", [p.name])
            values[p.name] = None
        elif p.kind is str:
            if not isinstance(value, str):
                raise problem("not_string", [p.name])
            values[p.name] = value
        else:
            number = _whole_number(value)
            if number is None:
                raise problem("not_integer", [p.name])
            values[p.name] = number
    return MetaArgs(values)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
