"""The MCP Inspector CLI lists and calls tools, directly and through the gateway.

The gateway sits in front of `@modelcontextprotocol/server-everything` reached over stdio,
Streamable HTTP or legacy SSE; the Inspector talks to the gateway's `/mcp` (and `/sse`). Tools are
namespaced `everything__<tool>`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.gateway import GatewayHandle
from tests.fixtures.inspector import (
    Transport,
    inspector,
    inspector_call_tool,
    inspector_list_tools,
)

pytestmark = pytest.mark.npm

SERVER = "everything"


def _text(result: dict[str, Any]) -> str:
    return "\n".join(str(block.get("text", "")) for block in result.get("content", []))


def _upstream_config(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if kind == "stdio":
        entry: dict[str, Any] = request.getfixturevalue("everything_stdio").server_config()
        return entry
    if kind == "http":
        return {"transport": "http", "url": request.getfixturevalue("everything_http_url")}
    return {"transport": "sse", "url": request.getfixturevalue("everything_sse_url")}


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_inspector_direct(transport: Transport, request: pytest.FixtureRequest) -> None:
    """Without the gateway: the fixtures' server-everything answers the Inspector on loopback."""
    url = request.getfixturevalue("everything_http_url" if transport == "http" else "everything_sse_url")
    names = {tool["name"] for tool in inspector_list_tools(url, transport=transport)}
    assert {"echo", "get-sum"} <= names
    result = inspector_call_tool(url, "get-sum", {"a": 2, "b": 3}, transport=transport)
    assert "5" in _text(result), result


@pytest.mark.parametrize(
    ("upstream", "downstream"),
    [("stdio", "http"), ("http", "http"), ("sse", "http"), ("http", "sse")],
    ids=str,
)
def test_inspector_through_gateway(
    upstream: str,
    downstream: Transport,
    request: pytest.FixtureRequest,
    gateway_server: Callable[..., GatewayHandle],
) -> None:
    """tools/list shows the namespaced tools; tools/call reaches the upstream and returns its result."""
    gateway = gateway_server({"servers": {SERVER: _upstream_config(upstream, request)}})
    url = gateway.mcp_url if downstream == "http" else gateway.sse_url

    tools = inspector_list_tools(url, transport=downstream, headers=gateway.headers)
    names = {tool["name"] for tool in tools}
    assert {f"{SERVER}__echo", f"{SERVER}__get-sum"} <= names, sorted(names)
    assert all(name.startswith(f"{SERVER}__") for name in names), sorted(names)

    auth = gateway.headers
    message = {"message": "hello through the gateway"}
    result = inspector_call_tool(url, f"{SERVER}__echo", message, transport=downstream, headers=auth)
    assert "hello through the gateway" in _text(result), result
    assert not result.get("isError"), result

    result = inspector_call_tool(url, f"{SERVER}__get-sum", {"a": 20, "b": 22}, transport=downstream, headers=auth)
    assert "42" in _text(result), result


def test_inspector_without_credential_is_refused(
    everything_http_url: str, gateway_server: Callable[..., GatewayHandle]
) -> None:
    """A client that sends no API key gets nothing from the gateway."""
    gateway = gateway_server({"servers": {SERVER: {"transport": "http", "url": everything_http_url}}})
    done = inspector(gateway.mcp_url, "tools/list", transport="http")
    assert done.returncode != 0, done.stdout
    assert f"{SERVER}__echo" not in done.stdout
