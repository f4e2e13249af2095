"""Tool calls to stdio upstreams over the lane (`upstream/stdio_lane.py`), against real servers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest

from mcp_gateway.config import parse_config
from mcp_gateway.errors import UpstreamError, UpstreamTimeout
from mcp_gateway.upstream.connection import Upstream, UpstreamState
from mcp_gateway.upstream.stdio_lane import write_line
from tests.core.harness import connect, python_server, running_gateway

MODERN = "2026-07-28"


@asynccontextmanager
async def stdio_upstream(module: str, **settings: Any) -> AsyncIterator[Upstream]:
    """A supervised stdio upstream running `module` with this interpreter, once ready."""
    server = {"transport": "stdio", "command": sys.executable, "args": ["-m", module], **settings}
    config = parse_config({"gateway": {"api_key": "k"}, "servers": {"s": server}}, "test-config")
    upstream = Upstream("s", config.servers["s"], on_listing=lambda _name, _listing: None)
    async with anyio.create_task_group() as tg:
        tg.start_soon(upstream.run)
        with anyio.fail_after(30):
            await upstream.ready.wait()
        assert upstream.state is UpstreamState.READY
        try:
            yield upstream
        finally:
            tg.cancel_scope.cancel()


def _text(result: types.CallToolResult) -> str:
    assert isinstance(result.content[0], types.TextContent)
    return result.content[0].text


async def test_calls_results_and_errors_over_the_lane() -> None:
    async with stdio_upstream("examples.demo_server") as upstream:
        assert upstream._lane is not None  # the path under test
        with anyio.fail_after(10):
            result = await upstream.call_tool("add", {"a": 2, "b": 3})
            assert result.structured_content == {"result": 5.0} and _text(result) == "5.0"
            failed = await upstream.call_tool("fail", {"message": "nope"})
            assert failed.is_error and "nope" in _text(failed)
            concurrent: list[str] = []

            async def echo(i: int) -> None:
                concurrent.append(_text(await upstream.call_tool("echo", {"text": str(i)})))

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(echo, i)
            assert sorted(concurrent, key=int) == [str(i) for i in range(20)]


async def test_a_timeout_leaves_the_lane_usable() -> None:
    async with stdio_upstream("examples.demo_server", timeout_s=0.3) as upstream:
        with anyio.fail_after(10):
            with pytest.raises(UpstreamTimeout, match=r"no answer within 0\.3 s"):
                await upstream.call_tool("sleep", {"seconds": 2})
            assert _text(await upstream.call_tool("add", {"a": 1, "b": 1})) == "2.0"


async def test_a_caller_going_away_cancels_the_call_upstream() -> None:
    async with stdio_upstream("tests.core.hold_server") as upstream:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(upstream.call_tool, "hold", {})
                assert (await upstream.call_tool("started", {})).structured_content == {"result": True}
                tg.cancel_scope.cancel()
            assert (await upstream.call_tool("cancelled", {})).structured_content == {"result": True}


async def test_progress_calls_keep_the_sdk_path() -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async with stdio_upstream("examples.demo_server") as upstream:
        with anyio.fail_after(10):
            result = await upstream.call_tool("count_down", {"start": 3}, progress=progress)
            assert not result.is_error and seen


async def test_a_result_breaking_its_output_schema_is_refused() -> None:
    async with stdio_upstream("tests.core.liar_stdio") as upstream:
        with anyio.fail_after(10), pytest.raises(UpstreamError, match="returned an unusable result"):
            await upstream.call_tool("count", {})


async def test_a_client_disconnecting_from_the_fast_path_cancels_the_stdio_call() -> None:
    async with (
        running_gateway({"s": python_server("tests.core.hold_server")}) as gw,
        connect(gw) as client,
        httpx2.AsyncClient(headers=gw.headers, timeout=30) as http,
    ):
        name = "s__hold"
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": {}, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}},
        }
        headers = {
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": MODERN,
            "mcp-method": "tools/call",
            "mcp-name": name,
        }
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: http.post(f"{gw.url}/mcp", json=body, headers=headers))
                assert (await client.call_tool("s__started", {})).structured_content == {"result": True}
                tg.cancel_scope.cancel()  # closes the raw client's connection mid-call
            assert (await client.call_tool("s__cancelled", {})).structured_content == {"result": True}


async def test_write_line_writes_whole_lines_to_a_real_process_and_refuses_a_closed_pipe() -> None:
    # `cat` echoes what the lane writes; anyio's process streams wrap asyncio's StreamWriter.
    async with await anyio.open_process(["cat"]) as process:
        assert process.stdin is not None and process.stdout is not None
        with anyio.fail_after(10):
            await write_line(process.stdin, b'{"a":1}\n')
            await write_line(process.stdin, b'{"b":2}\n')
            echoed = b""
            while echoed.count(b"\n") < 2:
                echoed += await process.stdout.receive()
            assert echoed == b'{"a":1}\n{"b":2}\n'
            await process.stdin.aclose()
            with pytest.raises((anyio.ClosedResourceError, anyio.BrokenResourceError)):
                await write_line(process.stdin, b"{}\n")


async def test_write_line_uses_send_on_other_streams() -> None:
    sent: list[bytes] = []

    class Stream:
        async def send(self, data: bytes) -> None:
            sent.append(data)

    await write_line(Stream(), b"{}\n")
    assert sent == [b"{}\n"]
