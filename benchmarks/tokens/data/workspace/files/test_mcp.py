"""Smoke test: connect to an MCP server and list its tools."""

import asyncio

from mcp import Client


async def main() -> None:
    async with Client("http://127.0.0.1:8080/mcp") as client:
        tools = await client.list_tools()
        print(f"{len(tools.tools)} tools")


if __name__ == "__main__":
    asyncio.run(main())
