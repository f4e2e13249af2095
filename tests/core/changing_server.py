"""An MCP server whose tool list grows on request, for list_changed propagation tests.

`grow(name)` adds a tool called `name` and announces the change: on `subscriptions/listen`
streams (2026-07-28) and as `notifications/tools/list_changed` (handshake-era sessions).
Run over stdio with `python -m tests.core.changing_server`.
"""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("changing")


@mcp.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name`, then announce that the tool list changed."""

    def added() -> str:
        return f"I am {name}"

    mcp.add_tool(added, name=name, description=f"A tool added at run time: {name}.")
    await ctx.notify_tools_changed()
    if ctx.protocol_version and ctx.protocol_version < "2026":
        await ctx.request_context.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    anyio.run(mcp.run_stdio_async)
