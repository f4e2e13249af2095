"""The agent's side of MCP: a session on the gateway's `/mcp` through the official SDK client.

`GatewaySession` lists the tools the gateway serves and calls them, turning each result into what
the model receives (the text blocks) and the same result as a value (structured content, else the
text decoded as JSON, else the text: what a Code Mode script gets for the same call).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

__all__ = ["GatewaySession", "ToolOutcome", "ToolSession", "decode_value", "open_gateway_session"]

WRAP_KEY = "x-fastmcp-wrap-result"


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool call's result as the model receives it (`text`) and as a value (`data`)."""

    text: str
    data: Any
    is_error: bool


class ToolSession(Protocol):
    """What the agent loop needs from an MCP connection."""

    instructions: str | None

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool, as MCP definitions (dicts with name, description, inputSchema...)."""
        ...

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call one tool."""
        ...


def _text_value(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


def decode_value(result: types.CallToolResult, tool: dict[str, Any] | None = None) -> Any:
    """The value of a result: structured content (unwrapped where the schema says so), else text."""
    if result.structured_content is not None:
        value = result.structured_content
        schema = (tool or {}).get("outputSchema") or {}
        if schema.get(WRAP_KEY) and isinstance(value, dict) and value.keys() == {"result"}:
            return value["result"]
        return value
    texts = [b.text for b in result.content if isinstance(b, types.TextContent)]
    if len(texts) == 1:
        return _text_value(texts[0])
    return [_text_value(t) for t in texts] if texts else None


def _render_content(result: types.CallToolResult) -> str:
    parts = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        else:
            # Binary blocks reach a model as attachments; count a short placeholder for them.
            parts.append(f"[{block.type} content]")
    return "\n".join(parts)


class GatewaySession:
    """A `ToolSession` over an entered `mcp.Client`."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._tools: dict[str, dict[str, Any]] = {}
        self.instructions = client.instructions

    async def list_tools(self) -> list[dict[str, Any]]:
        """All pages of `tools/list`, as plain dicts."""
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self._client.list_tools(cursor=cursor)
            tools += [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        self._tools = {t["name"]: t for t in tools}
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call a tool; protocol errors come back as error outcomes, as a client shows them."""
        try:
            result = await self._client.call_tool(name, arguments)
        except Exception as exc:  # the model sees any failure as a tool error
            return ToolOutcome(f"Error calling {name}: {exc}", None, True)
        if not isinstance(result, types.CallToolResult):
            return ToolOutcome(f"Unexpected result type {type(result).__name__}", None, True)
        text = _render_content(result)
        return ToolOutcome(text, decode_value(result, self._tools.get(name)), bool(result.is_error))


@asynccontextmanager
async def open_gateway_session(
    url: str, api_key: str | None, read_timeout_s: float = 120.0
) -> AsyncIterator[GatewaySession]:
    """Connect to a gateway's `/mcp` with `Authorization: Bearer <api_key>`."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(read_timeout_s)) as http,
        Client(streamable_http_client(url, http_client=http), read_timeout_seconds=read_timeout_s) as client,
    ):
        yield GatewaySession(client)
