"""Example MCP servers and configs shipped with the gateway."""
