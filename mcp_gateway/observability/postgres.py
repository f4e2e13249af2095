"""The shared log store: PostgreSQL through asyncpg (`logging.store: postgresql://...`).

Batches go in with COPY, the fastest path into PostgreSQL. COPY fails whole on a duplicate id,
which only happens when a batch is retried after its commit reached the server but the answer
did not; that batch is then inserted row by row with `ON CONFLICT DO NOTHING`. The schema is
created on open under an advisory lock, so instances starting together do not race.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import asyncpg

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

__all__ = ["PostgresLogStore", "safe_url"]

# `COLLATE "C"` keeps id order bytewise whatever the database's locale: ids sort as time.
_SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS logs (
        id TEXT COLLATE "C" PRIMARY KEY,
        kind TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        ended_at DOUBLE PRECISION NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        parent_id TEXT COLLATE "C",
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
        result_size BIGINT NOT NULL,
        error TEXT,
        approval TEXT,
        reviewer TEXT,
        cost DOUBLE PRECISION NOT NULL,
        extra TEXT,
        error_lc TEXT,
        search TEXT NOT NULL
    )
    """,
    *(f"CREATE INDEX IF NOT EXISTS {name} ON logs ({columns})" for name, columns in INDEXES),
]
_SCHEMA_LOCK = 0x6D637067_6C6F6773  # "mcpglogs": the advisory lock id of schema creation
_INSERT = (
    f"INSERT INTO logs ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))}) "
    "ON CONFLICT (id) DO NOTHING"
)


def safe_url(url: str) -> str:
    """`url` with any password replaced by `***`, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _placeholder(n: int) -> str:
    return f"${n}"


def _contains(column: str, placeholder: str) -> str:
    return f"strpos({column}, {placeholder}) > 0"


class PostgresLogStore:
    """A `LogStore` in a PostgreSQL database (table `logs`)."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._where = safe_url(url)

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 4) -> PostgresLogStore:
        """Connect a small pool and create the schema; `LogStoreError` (password hidden) on failure."""
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=max_connections)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            raise LogStoreError(f"cannot connect to the PostgreSQL log store {safe_url(url)}: {exc}") from exc
        store = cls(pool, url)
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                for statement in _SCHEMA:
                    await conn.execute(statement)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, asyncpg.PostgresError):
                raise LogStoreError(f"cannot create the log schema in {safe_url(url)}: {exc}") from exc
            raise
        return store

    def _error(self, action: str, exc: Exception) -> LogStoreError:
        return LogStoreError(f"PostgreSQL log store {self._where}: {action}: {type(exc).__name__}: {exc}")

    async def write(self, records: Sequence[LogRecord]) -> None:
        """COPY `records` in; on a duplicate id, insert them one by one skipping duplicates."""
        if not records:
            return
        # The JSON work of a large batch would hold the event loop for milliseconds.
        rows = await anyio.to_thread.run_sync(lambda: [record_to_row(r) for r in records])
        try:
            async with self._pool.acquire() as conn:
                try:
                    await conn.copy_records_to_table("logs", records=rows, columns=list(COLUMNS))
                except asyncpg.UniqueViolationError:
                    await conn.executemany(_INSERT, rows)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise self._error("write", exc) from exc

    async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        try:
            async with self._pool.acquire() as conn:
                rows: list[asyncpg.Record] = await conn.fetch(sql, *params)
                return rows
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise self._error("query", exc) from exc

    async def query(self, q: LogQuery) -> LogPage:
        """A page of matching records, newest first."""
        where = build_where(q, _placeholder, _contains)
        n = len(where.params) + 1
        sql = f"SELECT {SELECT_COLUMNS} FROM logs{where.sql} ORDER BY id DESC LIMIT ${n}"
        rows = await self._fetch(sql, *where.params, q.limit + 1)
        records = [record_from_row(tuple(row)) for row in rows[: q.limit]]
        more = len(rows) > q.limit
        return LogPage(records, encode_cursor(records[-1].id) if more else None)

    async def get(self, log_id: str) -> LogRecord | None:
        """The record with id `log_id`, or None."""
        rows = await self._fetch(f"SELECT {SELECT_COLUMNS} FROM logs WHERE id = $1", log_id)
        return record_from_row(tuple(rows[0])) if rows else None

    async def children(self, log_id: str) -> list[LogRecord]:
        """Records whose parent is `log_id`, oldest first."""
        sql = f"SELECT {SELECT_COLUMNS} FROM logs WHERE parent_id = $1 ORDER BY started_at, id"
        rows = await self._fetch(sql, log_id)
        return [record_from_row(tuple(row)) for row in rows]

    async def count(self) -> int:
        """How many records are stored."""
        rows = await self._fetch("SELECT count(*) FROM logs")
        return int(rows[0][0])

    async def purge_before(self, ts: float) -> int:
        """Delete records that started before `ts`."""
        try:
            async with self._pool.acquire() as conn:
                status: str = await conn.execute("DELETE FROM logs WHERE started_at < $1", ts)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise self._error("purge", exc) from exc
        return int(status.rsplit(" ", 1)[-1])

    async def aclose(self) -> None:
        """Close the pool."""
        await self._pool.close()
