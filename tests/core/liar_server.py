"""A low-level MCP server whose tool breaks its own output schema (for error-path tests)."""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server


async def _list(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    return types.ListToolsResult(
        tools=[types.Tool(name="count", input_schema={"type": "object"}, output_schema=schema)]
    )


async def _call(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text="oops")], structured_content={"n": "many"})


mcp: Server[Any] = Server("liar", on_list_tools=_list, on_call_tool=_call)
