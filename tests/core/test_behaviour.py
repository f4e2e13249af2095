"""One behaviour suite, run for every upstream transport x every downstream transport.

Upstream: the demo server in-process, over stdio, streamable HTTP and SSE. Downstream: the `mcp`
SDK client in auto mode (2026-07-28, stateless), in legacy mode (2025-11-25, session) and over
legacy SSE.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from tests.core.harness import DOWNSTREAM_MODES, DownstreamMode, connect, running_gateway

DEMO_TOOLS = {"demo__add", "demo__echo", "demo__count_down", "demo__fail", "demo__sleep"}


@pytest.mark.parametrize("mode", DOWNSTREAM_MODES)
async def test_demo_through_gateway(demo_upstream: dict[str, Any], mode: DownstreamMode) -> None:
    async with running_gateway({"demo": demo_upstream}) as gw, connect(gw, mode) as client:
        with anyio.fail_after(20):
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == DEMO_TOOLS
            assert tools["demo__add"].description == "Add two numbers and return the sum."
            assert set(tools["demo__add"].input_schema["required"]) == {"a", "b"}

            result = await client.call_tool("demo__add", {"a": 2, "b": 40})
            assert not result.is_error
            assert result.structured_content == {"result": 42.0}

            echoed = await client.call_tool("demo__echo", {"text": "hi", "times": 3})
            assert isinstance(echoed.content[0], types.TextContent)
            assert echoed.content[0].text == "hi hi hi"

            seen: list[tuple[float, float | None, str | None]] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append((progress, total, message))

            done = await client.call_tool("demo__count_down", {"start": 3}, progress_callback=on_progress)
            assert isinstance(done.content[0], types.TextContent)
            assert done.content[0].text == "liftoff"
            assert [p for p, _, _ in seen] == [1.0, 2.0, 3.0]
            assert seen[-1][1:] == (3.0, "step 3 of 3")

            failed = await client.call_tool("demo__fail", {"message": "kaput"})
            assert failed.is_error
            assert isinstance(failed.content[0], types.TextContent)
            assert "kaput" in failed.content[0].text

            with pytest.raises(MCPError, match="Unknown tool: demo__nope"):
                await client.call_tool("demo__nope", {})

            prompts = (await client.list_prompts()).prompts
            assert [p.name for p in prompts] == ["demo__summarize"]
            prompt = await client.get_prompt("demo__summarize", {"topic": "otters"})
            assert isinstance(prompt.messages[0].content, types.TextContent)
            assert "otters" in prompt.messages[0].content.text

            completion = await client.complete(
                types.PromptReference(type="ref/prompt", name="demo__summarize"), {"name": "topic", "value": "o"}
            )
            assert completion.completion.values == ["otters", "octopuses", "owls"]

            resources = (await client.list_resources()).resources
            assert [str(r.uri) for r in resources] == ["notes://welcome"]
            read = await client.read_resource("notes://welcome")
            assert isinstance(read.contents[0], types.TextResourceContents)
            assert read.contents[0].text == "Hello from the demo server."
            with pytest.raises(MCPError, match="Unknown resource"):
                await client.read_resource("notes://secret")


async def test_two_servers_are_namespaced_apart() -> None:
    servers = {
        "one": {"transport": "inprocess", "target": "examples.demo_server:mcp"},
        "two": {"transport": "inprocess", "target": "examples.demo_server:mcp"},
    }
    async with running_gateway(servers) as gw, connect(gw) as client:
        with anyio.fail_after(10):
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"one__add", "two__add"} <= names
            assert len(names) == 2 * len(DEMO_TOOLS)
            result = await client.call_tool("two__echo", {"text": "x"})
            assert not result.is_error


async def test_unnamespaced_server_keeps_upstream_names() -> None:
    servers = {"demo": {"transport": "inprocess", "target": "examples.demo_server:mcp", "namespace": False}}
    async with running_gateway(servers) as gw, connect(gw) as client:
        with anyio.fail_after(10):
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {n.removeprefix("demo__") for n in DEMO_TOOLS}


async def test_upstream_timeout_is_a_readable_tool_error() -> None:
    servers = {"demo": {"transport": "inprocess", "target": "examples.demo_server:mcp", "timeout_s": 0.3}}
    async with running_gateway(servers) as gw, connect(gw) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("demo__sleep", {"seconds": 5})
            assert result.is_error
            assert isinstance(result.content[0], types.TextContent)
            assert "no answer within 0.3 s" in result.content[0].text
            # The server is still fine for the next call.
            assert not (await client.call_tool("demo__add", {"a": 1, "b": 1})).is_error


async def test_result_breaking_its_output_schema_is_a_readable_error() -> None:
    servers = {"bad": {"transport": "inprocess", "target": "tests.core.liar_server:mcp"}}
    async with running_gateway(servers) as gw, connect(gw) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("bad__count", {})
            assert result.is_error
            assert isinstance(result.content[0], types.TextContent)
            assert "upstream 'bad': tool 'count' returned an unusable result" in result.content[0].text
