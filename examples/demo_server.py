"""A small MCP server for the quick start and the tests.

Served by the bundled config as `transport: inprocess, target: "examples.demo_server:mcp"`; also
runnable on its own over any transport, which the tests use to exercise every upstream transport
with the same tools: `python -m examples.demo_server [stdio | http PORT | sse PORT]`.
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio
import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

mcp = MCPServer("demo", instructions="A demo server: arithmetic, echo, and a slow task with progress.")

_NOTES: dict[str, str] = {"welcome": "Hello from the demo server."}


@mcp.tool()
def add(a: float, b: float) -> float:
    """Add two numbers and return the sum."""
    return a + b


@mcp.tool()
def echo(text: str, times: int = 1) -> str:
    """Repeat a text a number of times, separated by spaces."""
    return " ".join([text] * times)


@mcp.tool()
async def count_down(start: int, ctx: Context) -> str:
    """Count down from a number, reporting progress at each step."""
    for step in range(start):
        await ctx.report_progress(step + 1, start, f"step {step + 1} of {start}")
    return "liftoff"


@mcp.tool()
def fail(message: str = "it broke") -> str:
    """Always fail with the given message (for trying error handling)."""
    raise ToolError(message)


@mcp.tool()
async def sleep(seconds: float, ctx: Context) -> str:
    """Wait for a number of seconds, then answer (for timeouts and cancellation)."""
    await ctx.report_progress(0, seconds, "sleeping")
    await anyio.sleep(seconds)
    return f"slept {seconds:g} s"


@mcp.prompt()
def summarize(topic: str) -> str:
    """Ask for a three-sentence summary of a topic."""
    return f"Summarize {topic} in three sentences."


_TOPICS = ("otters", "octopuses", "owls", "starlings")


@mcp.completion()
async def complete_topic(ref: Any, argument: types.CompletionArgument, context: Any) -> types.Completion | None:
    """Suggest topics for the `summarize` prompt."""
    if isinstance(ref, types.PromptReference) and ref.name == "summarize" and argument.name == "topic":
        return types.Completion(values=[t for t in _TOPICS if t.startswith(argument.value)])
    return None


@mcp.resource("notes://welcome")
def welcome_note() -> str:
    """The welcome note."""
    return _NOTES["welcome"]


def main() -> None:
    """Serve the demo over stdio, streamable HTTP or SSE on loopback."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("transport", nargs="?", default="stdio", choices=["stdio", "http", "sse"])
    parser.add_argument("port", nargs="?", type=int, default=8000)
    args = parser.parse_args()
    if args.transport == "stdio":
        anyio.run(mcp.run_stdio_async)
    elif args.transport == "http":
        anyio.run(lambda: mcp.run_streamable_http_async(host="127.0.0.1", port=args.port))
    else:
        anyio.run(lambda: mcp.run_sse_async(host="127.0.0.1", port=args.port))


if __name__ == "__main__":
    main()
