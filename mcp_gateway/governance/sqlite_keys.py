"""The default persistent key store: one SQLite file, written by the gateway and the CLI alike.

sqlite3 calls block, so each runs in a worker thread (`anyio.to_thread`), serialised by a lock on
the one connection. WAL mode and a busy timeout let the CLI write while a gateway reads. A
`revision` row grows in the same transaction as every write, which is how a gateway notices keys
created by the CLI (see `Governance.sync_keys`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from mcp_gateway.governance.keystore import (
    CreatedKey,
    DuplicateKeyName,
    KeyNotFound,
    KeyRecord,
    KeySpec,
    new_key,
)
from mcp_gateway.storage import SQLiteFile, write_transaction

__all__ = ["SQLiteKeyStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS virtual_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    team TEXT,
    customer TEXT,
    tool_groups TEXT NOT NULL,
    allowed_tools TEXT NOT NULL,
    blocked_tools TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    revoked_at REAL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS virtual_keys_live_name ON virtual_keys(name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS key_store_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO key_store_meta (name, value) VALUES ('revision', 0);
"""

_COLUMNS = (
    "id, name, key_hash, prefix, team, customer, tool_groups, allowed_tools, blocked_tools, "
    "description, created_at, revoked_at, disabled"
)


def _record(row: sqlite3.Row) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        key_hash=row["key_hash"],
        prefix=row["prefix"],
        team=row["team"],
        customer=row["customer"],
        tool_groups=tuple(json.loads(row["tool_groups"])),
        allowed_tools=tuple(json.loads(row["allowed_tools"])),
        blocked_tools=tuple(json.loads(row["blocked_tools"])),
        description=row["description"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        disabled=bool(row["disabled"]),
    )


class SQLiteKeyStore:
    """A `KeyStore` in an SQLite file (created with its parent directory if missing)."""

    def __init__(self, path: str | Path) -> None:
        self._db = SQLiteFile(path, _SCHEMA)
        self.path = self._db.path
        self._run = self._db.run

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteKeyStore:
        """Like the constructor, but opens the file and creates the schema in a worker thread."""
        return await anyio.to_thread.run_sync(cls, path)

    @staticmethod
    def _write(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
        # One transaction per write, bumping the revision with it so readers see both or neither.
        with write_transaction(conn):
            changed = conn.execute(sql, params).rowcount
            if changed:
                conn.execute("UPDATE key_store_meta SET value = value + 1 WHERE name = 'revision'")
        return changed

    async def create(self, spec: KeySpec) -> CreatedKey:
        """Store a new key; raise `DuplicateKeyName` if a live key has the name."""
        created = new_key(spec)
        r = created.record
        params = (
            r.id,
            r.name,
            r.key_hash,
            r.prefix,
            r.team,
            r.customer,
            json.dumps(list(r.tool_groups)),
            json.dumps(list(r.allowed_tools)),
            json.dumps(list(r.blocked_tools)),
            r.description,
            r.created_at,
            None,
            0,
        )
        sql = f"INSERT INTO virtual_keys ({_COLUMNS}) VALUES ({', '.join('?' * 13)})"
        try:
            await self._run(lambda conn: self._write(conn, sql, params))
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyName(f"a key named {spec.name!r} already exists") from exc
        return created

    async def list(self) -> Sequence[KeyRecord]:
        """Every record, oldest first."""
        sql = f"SELECT {_COLUMNS} FROM virtual_keys ORDER BY created_at, id"
        return await self._run(lambda conn: [_record(row) for row in conn.execute(sql)])

    async def _update(self, key_id: str, sql: str, params: Sequence[object]) -> KeyRecord:
        def update(conn: sqlite3.Connection) -> KeyRecord | None:
            self._write(conn, sql, params)
            row = conn.execute(f"SELECT {_COLUMNS} FROM virtual_keys WHERE id = ?", (key_id,)).fetchone()
            return _record(row) if row is not None else None

        record = await self._run(update)
        if record is None:
            raise KeyNotFound(f"no key with id {key_id!r}")
        return record

    async def revoke(self, key_id: str) -> KeyRecord:
        """Revoke for good; revoking twice keeps the first time."""
        sql = "UPDATE virtual_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"
        return await self._update(key_id, sql, (time.time(), key_id))

    async def disable(self, key_id: str, disabled: bool = True) -> KeyRecord:
        """Disable (403) or re-enable."""
        return await self._update(key_id, "UPDATE virtual_keys SET disabled = ? WHERE id = ?", (int(disabled), key_id))

    async def revision(self) -> int:
        """The write counter shared by every process using this file."""
        sql = "SELECT value FROM key_store_meta WHERE name = 'revision'"
        return await self._run(lambda conn: int(conn.execute(sql).fetchone()[0]))

    async def aclose(self) -> None:
        """Close the connection."""
        await self._db.aclose()
