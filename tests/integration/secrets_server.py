"""An in-process MCP server whose tools take and return secrets, for the redaction tests."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("vault")


@mcp.tool()
def login(user: str, password: str, note: str = "") -> dict[str, Any]:
    """Log in and return a session."""
    return {"user": user, "session_token": f"tok-{password[::-1]}", "note": note, "ssn": "123-45-6789"}


@mcp.tool()
def lookup(customer: dict[str, Any]) -> dict[str, Any]:
    """Return the customer as stored."""
    return {"customer": customer}
