"""The seam between the log writer/API and the databases: `LogStore`, and `open_log_store`.

Two implementations pass one test suite: `SQLiteLogStore` (the default; a file in the data dir,
or in memory without one) and `PostgresLogStore` (`logging.store: postgresql://...`), for several
gateway instances sharing one log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.errors import GatewayError
from mcp_gateway.observability.query import LogQuery
from mcp_gateway.observability.records import LogRecord

__all__ = ["LOGS_DB_NAME", "LogPage", "LogStore", "LogStoreError", "open_log_store"]

LOGS_DB_NAME = "logs.db"


class LogStoreError(GatewayError):
    """The log store could not be opened, written or read (the cause is chained)."""


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of records, newest first; `next_cursor` is None on the last page."""

    records: list[LogRecord] = field(default_factory=list)
    next_cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """`{"records": [...], "next_cursor": ...}`, as `GET /api/logs` serves it."""
        return {"records": [r.to_dict() for r in self.records], "next_cursor": self.next_cursor}


class LogStore(Protocol):
    """Where log records live. Every method is safe to call concurrently."""

    async def write(self, records: Sequence[LogRecord]) -> None:
        """Store `records` in one transaction; records whose id is already stored are skipped."""
        ...

    async def query(self, q: LogQuery) -> LogPage:
        """The page of records matching `q`, newest first, continuing after `q.cursor`."""
        ...

    async def get(self, log_id: str) -> LogRecord | None:
        """The record with this id, or None."""
        ...

    async def children(self, log_id: str) -> list[LogRecord]:
        """The records whose `parent_id` is `log_id` (a script's tool calls), oldest first."""
        ...

    async def count(self) -> int:
        """How many records are stored."""
        ...

    async def purge_before(self, ts: float) -> int:
        """Delete records that started before `ts` (epoch seconds); return how many."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


async def open_log_store(settings: LoggingSettings, data_dir: Path | None) -> LogStore:
    """The store `settings.store` names, with its schema created.

    PostgreSQL for a `postgresql://` URL; else SQLite in `data_dir/logs.db`, or in memory when
    there is no data dir. Raises `LogStoreError` when the store cannot be opened.
    """
    if settings.store.startswith(("postgresql://", "postgres://")):
        try:
            from mcp_gateway.observability.postgres import PostgresLogStore
        except ImportError as exc:
            raise LogStoreError(
                "logging.store is a PostgreSQL URL but asyncpg is not installed: pip install 'mcp-gateway[postgres]'"
            ) from exc

        return await PostgresLogStore.open(settings.store)
    from mcp_gateway.observability.sqlite import SQLiteLogStore

    return await SQLiteLogStore.open(data_dir / LOGS_DB_NAME if data_dir is not None else ":memory:")
