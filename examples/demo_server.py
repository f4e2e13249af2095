"""A small in-process MCP server for the quick start and the tests.

Served by the bundled config as `transport: inprocess, target: "examples.demo_server:mcp"`.
"""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer

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
    raise ValueError(message)


@mcp.prompt()
def summarize(topic: str) -> str:
    """Ask for a three-sentence summary of a topic."""
    return f"Summarize {topic} in three sentences."


@mcp.resource("notes://welcome")
def welcome_note() -> str:
    """The welcome note."""
    return _NOTES["welcome"]
