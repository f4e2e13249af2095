"""A stdio MCP server whose `hold` call waits until cancelled, and which reports cancellations."""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import MCPServer

mcp = MCPServer("hold")
_started = anyio.Event()
_cancelled = anyio.Event()


@mcp.tool()
async def hold() -> str:
    """Wait until the caller cancels."""
    _started.set()
    try:
        await anyio.sleep_forever()
    finally:
        _cancelled.set()
    return "unreachable"


@mcp.tool()
async def started() -> bool:
    """True once `hold` is running (waits for it, up to 10 s)."""
    with anyio.move_on_after(10):
        await _started.wait()
    return _started.is_set()


@mcp.tool()
async def cancelled() -> bool:
    """True once a `hold` call was cancelled (waits for it, up to 10 s)."""
    with anyio.move_on_after(10):
        await _cancelled.wait()
    return _cancelled.is_set()


if __name__ == "__main__":
    anyio.run(mcp.run_stdio_async)
