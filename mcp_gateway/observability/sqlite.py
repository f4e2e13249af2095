"""The default log store: one SQLite file in the data dir (or an in-memory database).

sqlite3 blocks, so every call runs in a worker thread (`anyio.to_thread`). A file database has two
connections, one writing and one reading, each behind its own lock: in WAL mode readers never wait
for the writer, so the logs page stays quick while batches land. An in-memory database can only be
reached through one connection, which then does both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from mcp_gateway.observability.query import LogQuery, encode_cursor
from mcp_gateway.observability.records import LogRecord
from mcp_gateway.observability.sql import (
    COLUMNS,
    INDEXES,
    SELECT_COLUMNS,
    build_where,
    record_from_row,
    record_to_row,
)
from mcp_gateway.observability.store import LogPage, LogStoreError
from mcp_gateway.storage import write_transaction

__all__ = ["SQLiteLogStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    latency_ms REAL NOT NULL,
    status TEXT NOT NULL,
    parent_id TEXT,
    key_id TEXT,
    key_name TEXT,
    team TEXT,
    customer TEXT,
    client_name TEXT,
    client_version TEXT,
    method TEXT,
    server TEXT,
    tool TEXT,
    mode TEXT,
    arguments TEXT,
    result TEXT,
    result_size INTEGER NOT NULL,
    error TEXT,
    approval TEXT,
    reviewer TEXT,
    cost REAL NOT NULL,
    extra TEXT,
    error_lc TEXT,
    search TEXT NOT NULL
);
""" + "".join(f"CREATE INDEX IF NOT EXISTS {name} ON logs ({columns});\n" for name, columns in INDEXES)

_INSERT = f"INSERT OR IGNORE INTO logs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

R = TypeVar("R")


class _Connection:
    """One sqlite3 connection and the lock that serialises the threads using it."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)

    def run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        with self.lock:
            return fn(self.conn)


def _contains(column: str, placeholder: str) -> str:
    return f"instr({column}, {placeholder}) > 0"


class SQLiteLogStore:
    """A `LogStore` in an SQLite file (created with its directory) or in memory (`":memory:"`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        memory = self.path == ":memory:"
        try:
            if not memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = _Connection(self.path)
            self._writer.run(self._init)
            self._reader = self._writer if memory else _Connection(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise LogStoreError(f"cannot open the SQLite log store {self.path}: {exc}") from exc

    @staticmethod
    def _init(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        # Logs are not money: NORMAL keeps the file consistent and may lose the last batches on
        # power loss, for several times the write throughput of FULL.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteLogStore:
        """Like the constructor, but opens the file and creates the schema in a worker thread."""
        return await anyio.to_thread.run_sync(cls, path)

    async def _call(self, connection: _Connection, fn: Callable[[sqlite3.Connection], R]) -> R:
        try:
            return await anyio.to_thread.run_sync(connection.run, fn)
        except sqlite3.Error as exc:
            raise LogStoreError(f"SQLite log store {self.path}: {exc}") from exc

    async def write(self, records: Sequence[LogRecord]) -> None:
        """Insert `records` in one transaction (ids already present are skipped)."""
        if not records:
            return

        def insert(conn: sqlite3.Connection) -> None:
            # Converting here keeps the JSON work off the event loop's thread too.
            rows = [record_to_row(r) for r in records]
            with write_transaction(conn):
                conn.executemany(_INSERT, rows)

        await self._call(self._writer, insert)

    async def query(self, q: LogQuery) -> LogPage:
        """A page of matching records, newest first."""
        where = build_where(q, lambda _n: "?", _contains)
        sql = f"SELECT {SELECT_COLUMNS} FROM logs{where.sql} ORDER BY id DESC LIMIT ?"
        params = [*where.params, q.limit + 1]
        rows = await self._call(self._reader, lambda conn: conn.execute(sql, params).fetchall())
        records = [record_from_row(row) for row in rows[: q.limit]]
        more = len(rows) > q.limit
        return LogPage(records, encode_cursor(records[-1].id) if more else None)

    async def get(self, log_id: str) -> LogRecord | None:
        """The record with id `log_id`, or None."""
        sql = f"SELECT {SELECT_COLUMNS} FROM logs WHERE id = ?"
        row = await self._call(self._reader, lambda conn: conn.execute(sql, (log_id,)).fetchone())
        return record_from_row(row) if row is not None else None

    async def children(self, log_id: str) -> list[LogRecord]:
        """Records whose parent is `log_id`, oldest first."""
        sql = f"SELECT {SELECT_COLUMNS} FROM logs WHERE parent_id = ? ORDER BY started_at, id"
        rows = await self._call(self._reader, lambda conn: conn.execute(sql, (log_id,)).fetchall())
        return [record_from_row(row) for row in rows]

    async def purge_before(self, ts: float) -> int:
        """Delete records that started before `ts`."""

        def delete(conn: sqlite3.Connection) -> int:
            removed = conn.execute("DELETE FROM logs WHERE started_at < ?", (ts,)).rowcount
            # Refreshes the planner's statistics now and then (cheap when nothing changed), so
            # it can tell a narrow time range, worth the started_at index, from a wide one.
            conn.execute("PRAGMA optimize")
            return removed

        return await self._call(self._writer, delete)

    async def count(self) -> int:
        """How many records are stored (for tests and benchmarks)."""
        return await self._call(self._reader, lambda conn: int(conn.execute("SELECT count(*) FROM logs").fetchone()[0]))

    async def aclose(self) -> None:
        """Close both connections."""
        await self._call(self._writer, lambda conn: conn.close())
        if self._reader is not self._writer:
            await self._call(self._reader, lambda conn: conn.close())
