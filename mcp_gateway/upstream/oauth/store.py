"""Where OAuth tokens and client credentials live: SQLite with encrypted values, or memory.

`SQLiteTokenStore` keeps one row per upstream in `<data_dir>/oauth.db`; the token set and the
client record are each sealed by a `SecretBox`, so the file never holds a token or a client
secret in clear. sqlite3 blocks, so every call runs in a worker thread (as in
`governance/sqlite_keys.py`). A token rotation writes the new access and refresh token in one
statement: a crash leaves the old pair or the new pair, never half of each.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from mcp_gateway.storage import SQLiteFile
from mcp_gateway.upstream.oauth.crypto import SecretBox
from mcp_gateway.upstream.oauth.records import ClientRecord, StoredAuth, TokenSet

__all__ = ["MemoryTokenStore", "SQLiteTokenStore", "TokenStore"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS upstream_auth (
    server TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    tokens BLOB,
    client BLOB,
    updated_at REAL NOT NULL
);
"""


class TokenStore(Protocol):
    """Persistence of OAuth state per upstream server name."""

    async def get(self, server: str) -> StoredAuth | None:
        """What is stored for `server`, if anything."""
        ...

    async def put_tokens(self, server: str, url: str, tokens: TokenSet | None) -> None:
        """Replace the token set (None forgets it); the client record stays."""
        ...

    async def put_client(self, server: str, url: str, client: ClientRecord | None) -> None:
        """Replace the client record (None forgets it); the tokens stay."""
        ...

    async def aclose(self) -> None:
        """Release the store."""
        ...


class MemoryTokenStore:
    """A `TokenStore` for gateways without a data dir: nothing survives a restart."""

    def __init__(self) -> None:
        self._rows: dict[str, StoredAuth] = {}

    async def get(self, server: str) -> StoredAuth | None:
        """What is stored for `server`, if anything."""
        return self._rows.get(server)

    async def put_tokens(self, server: str, url: str, tokens: TokenSet | None) -> None:
        """Replace the token set."""
        old = self._rows.get(server)
        self._rows[server] = StoredAuth(url=url, tokens=tokens, client=old.client if old else None)

    async def put_client(self, server: str, url: str, client: ClientRecord | None) -> None:
        """Replace the client record."""
        old = self._rows.get(server)
        self._rows[server] = StoredAuth(url=url, tokens=old.tokens if old else None, client=client)

    async def aclose(self) -> None:
        """Nothing to release."""


class SQLiteTokenStore:
    """A `TokenStore` in an SQLite file whose secret columns are sealed by `box`."""

    def __init__(self, path: Path, box: SecretBox) -> None:
        self._db = SQLiteFile(path, _SCHEMA, rows=False, private=True)
        self.path = path
        self._box = box
        self._run = self._db.run

    @classmethod
    async def open(cls, path: Path, box: SecretBox) -> SQLiteTokenStore:
        """Like the constructor, in a worker thread."""
        return await anyio.to_thread.run_sync(cls, path, box)

    async def get(self, server: str) -> StoredAuth | None:
        """What is stored for `server`, decrypted."""
        sql = "SELECT url, tokens, client FROM upstream_auth WHERE server = ?"
        row = await self._run(lambda conn: conn.execute(sql, (server,)).fetchone())
        if row is None:
            return None
        url, tokens, client = row
        return StoredAuth(
            url=url,
            tokens=TokenSet.from_json(self._box.open(tokens)) if tokens is not None else None,
            client=ClientRecord.from_json(self._box.open(client)) if client is not None else None,
        )

    async def _upsert(self, server: str, url: str, column: str, value: bytes | None) -> None:
        sql = (
            f"INSERT INTO upstream_auth (server, url, {column}, updated_at) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT(server) DO UPDATE SET url = excluded.url, {column} = excluded.{column}, "
            "updated_at = excluded.updated_at"
        )
        params = (server, url, value, time.time())
        await self._run(lambda conn: conn.execute(sql, params))

    async def put_tokens(self, server: str, url: str, tokens: TokenSet | None) -> None:
        """Replace the token set in one statement (access and refresh token together)."""
        await self._upsert(server, url, "tokens", self._box.seal(tokens.to_json()) if tokens is not None else None)

    async def put_client(self, server: str, url: str, client: ClientRecord | None) -> None:
        """Replace the client record."""
        await self._upsert(server, url, "client", self._box.seal(client.to_json()) if client is not None else None)

    async def aclose(self) -> None:
        """Close the connection."""
        await self._db.aclose()
