"""The fastmcp `Client` (another widely used client stack) works through the gateway."""

from __future__ import annotations

import anyio
import mcp_types as types
import pytest
from fastmcp import Client
from fastmcp.client.transports import SSETransport, StreamableHttpTransport
from fastmcp.exceptions import ToolError

from tests.core.harness import KEY, running_gateway

DEMO = {"demo": {"transport": "inprocess", "target": "examples.demo_server:mcp"}}


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_fastmcp_client_lists_and_calls(transport: str) -> None:
    async with running_gateway(DEMO) as gw:
        headers = {"Authorization": f"Bearer {KEY}"}
        target = (
            StreamableHttpTransport(f"{gw.url}/mcp", headers=headers)
            if transport == "http"
            else SSETransport(f"{gw.url}/sse", headers=headers)
        )
        async with Client(target) as client:
            with anyio.fail_after(15):
                names = {t.name for t in await client.list_tools()}
                assert {"demo__add", "demo__echo"} <= names
                result = await client.call_tool("demo__add", {"a": 20, "b": 22})
                assert result.structured_content == {"result": 42.0}
                with pytest.raises(ToolError, match="nope"):
                    await client.call_tool("demo__fail", {"message": "nope"})
                contents = await client.read_resource("notes://welcome")
                assert isinstance(contents[0], types.TextResourceContents)
                assert contents[0].text == "Hello from the demo server."
