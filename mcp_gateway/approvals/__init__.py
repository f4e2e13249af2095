"""Approval mode: tool calls held for a human decision before they run.

`ApprovalQueue` decides which calls are held (`required`), holds them (`hold`) and releases them
(`decide`); `HeldCall` is the record a reviewer sees; stores keep those records (SQLite under the
data directory, so they outlive a restart). The API, web page and CLI are in `mcp_gateway.admin`.
"""

from mcp_gateway.approvals.model import Decision, HeldCall, HeldStatus, new_approval_id
from mcp_gateway.approvals.queue import AlreadyDecided, ApprovalQueue
from mcp_gateway.approvals.store import ApprovalStore, MemoryApprovalStore, SQLiteApprovalStore

__all__ = [
    "AlreadyDecided",
    "ApprovalQueue",
    "ApprovalStore",
    "Decision",
    "HeldCall",
    "HeldStatus",
    "MemoryApprovalStore",
    "SQLiteApprovalStore",
    "new_approval_id",
]
