"""`liar_server` over stdio, for the stdio lane's output-schema check."""

from __future__ import annotations

import anyio
from mcp.server.stdio import stdio_server

from tests.core.liar_server import mcp


async def main() -> None:
    """Serve the liar over this process's stdin/stdout."""
    async with stdio_server() as (read_stream, write_stream):
        await mcp.run(read_stream, write_stream, mcp.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
