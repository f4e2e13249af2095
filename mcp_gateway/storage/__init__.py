"""Storage helpers shared by the stores of every part (keys, approvals, OAuth tokens)."""

from mcp_gateway.storage.sqlite import SQLiteFile

__all__ = ["SQLiteFile"]
