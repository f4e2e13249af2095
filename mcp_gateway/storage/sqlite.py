"""One SQLite file used from the event loop: its calls run in worker threads, one at a time.

sqlite3 calls block, so each runs in a worker thread (`anyio.to_thread`), serialised by a lock
on the one connection (SQLite allows one writer anyway). The database is in WAL mode so other
processes (the CLI) can read while the gateway writes. The log store, which needs a separate
reading connection, has its own arrangement (`observability/sqlite.py`).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

__all__ = ["SQLiteFile", "write_transaction"]

R = TypeVar("R")


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` ... `COMMIT` on an autocommit connection; rolled back if the body raises.

    IMMEDIATE takes the write lock up front, so a transaction never fails half-way for want of it.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteFile:
    """A connection to `path` (created with its parent directory), with `schema` applied.

    `rows`: return `sqlite3.Row` objects; `private`: make the file readable by its owner only.
    """

    def __init__(self, path: str | Path, schema: str, *, rows: bool = True, private: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=5.0)
        if rows:
            self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(schema)
        if private:
            self.path.chmod(0o600)

    @classmethod
    async def open(cls, path: str | Path, schema: str, *, rows: bool = True, private: bool = False) -> SQLiteFile:
        """Like the constructor, but opens the file and applies the schema in a worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(cls, path, schema, rows=rows, private=private))

    async def run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """`fn(connection)` in a worker thread, alone on the connection."""

        def locked() -> R:
            with self._lock:
                return fn(self._conn)

        return await anyio.to_thread.run_sync(locked)

    def run_sync(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """`fn(connection)` on this thread (for constructors that already run in a worker)."""
        with self._lock:
            return fn(self._conn)

    async def aclose(self) -> None:
        """Close the connection."""
        await self.run(lambda conn: conn.close())
