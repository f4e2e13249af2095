"""An MCP gateway with Code Mode: one `/mcp` endpoint over many MCP servers."""

from mcp_gateway.errors import GatewayError

__all__ = ["GatewayError"]
