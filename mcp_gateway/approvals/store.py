"""Where held calls are kept: in memory, or in SQLite so they outlive a restart as records.

A restart cannot resume a waiting caller (its connection is gone), so `abandon_pending` marks
every call still pending when the gateway starts as `abandoned`, with the reason; reviewers then
see what happened instead of a queue of calls nobody waits for.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from mcp_gateway.approvals.model import HeldCall
from mcp_gateway.storage import SQLiteFile

__all__ = ["ApprovalStore", "MemoryApprovalStore", "SQLiteApprovalStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS held_calls (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS held_calls_status ON held_calls (status, id);
"""


class ApprovalStore(Protocol):
    """Persistence of held calls."""

    async def save(self, held: HeldCall) -> None:
        """Insert or replace `held`."""
        ...

    async def get(self, approval_id: str) -> HeldCall | None:
        """The held call with this id."""
        ...

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[HeldCall]:
        """Held calls, newest first, optionally only those with `status`."""
        ...

    async def abandon_pending(self, reason: str, now: float) -> int:
        """Mark every pending call abandoned (at startup); returns how many."""
        ...

    async def aclose(self) -> None:
        """Release the store's resources."""
        ...


class MemoryApprovalStore:
    """Held calls in a dict: the default without a data directory."""

    def __init__(self) -> None:
        self._calls: dict[str, HeldCall] = {}

    async def save(self, held: HeldCall) -> None:
        self._calls[held.id] = HeldCall.from_dict(held.to_dict())  # a copy: callers keep mutating theirs

    async def get(self, approval_id: str) -> HeldCall | None:
        found = self._calls.get(approval_id)
        return HeldCall.from_dict(found.to_dict()) if found is not None else None

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[HeldCall]:
        ordered = sorted(self._calls.values(), key=lambda h: h.id, reverse=True)
        return [HeldCall.from_dict(h.to_dict()) for h in ordered if status is None or h.status == status][:limit]

    async def abandon_pending(self, reason: str, now: float) -> int:
        pending = [h for h in self._calls.values() if h.pending]
        for held in pending:
            held.status, held.reason, held.decided_at = "abandoned", reason, now
        return len(pending)

    async def aclose(self) -> None:
        return None


class SQLiteApprovalStore:
    """Held calls in `<data_dir>/approvals.db`."""

    def __init__(self, path: str | Path) -> None:
        self._db = SQLiteFile(path, _SCHEMA, rows=False)

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteApprovalStore:
        """Open (creating if needed) the database at `path`, in a worker thread."""
        return await anyio.to_thread.run_sync(cls, path)

    async def save(self, held: HeldCall) -> None:
        row = (held.id, held.status, held.created_at, json.dumps(held.to_dict(), default=str))
        await self._db.run(lambda db: db.execute("INSERT OR REPLACE INTO held_calls VALUES (?, ?, ?, ?)", row))

    async def get(self, approval_id: str) -> HeldCall | None:
        row = await self._db.run(
            lambda db: db.execute("SELECT body FROM held_calls WHERE id = ?", (approval_id,)).fetchone()
        )
        return HeldCall.from_dict(json.loads(row[0])) if row is not None else None

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[HeldCall]:
        args: tuple[object, ...]
        if status is None:
            sql, args = "SELECT body FROM held_calls ORDER BY id DESC LIMIT ?", (limit,)
        else:
            sql, args = "SELECT body FROM held_calls WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit)
        rows = await self._db.run(lambda db: db.execute(sql, args).fetchall())
        return [HeldCall.from_dict(json.loads(r[0])) for r in rows]

    async def abandon_pending(self, reason: str, now: float) -> int:
        def abandon(db: sqlite3.Connection) -> int:
            rows = db.execute("SELECT body FROM held_calls WHERE status = 'pending'").fetchall()
            for (body,) in rows:
                held = HeldCall.from_dict(json.loads(body))
                held.status, held.reason, held.decided_at = "abandoned", reason, now
                db.execute(
                    "UPDATE held_calls SET status = ?, body = ? WHERE id = ?",
                    (held.status, json.dumps(held.to_dict(), default=str), held.id),
                )
            return len(rows)

        return await self._db.run(abandon)

    async def aclose(self) -> None:
        await self._db.aclose()
