"""Storage helpers shared by the stores of every part (keys, approvals, OAuth tokens)."""

from mcp_gateway.storage.sqlite import SQLiteFile, write_transaction

__all__ = ["SQLiteFile", "write_transaction"]
