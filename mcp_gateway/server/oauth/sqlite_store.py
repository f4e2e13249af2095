"""The persistent `OAuthStore`: `<data_dir>/oauth_server.db`, so logins survive a restart.

sqlite3 calls block, so each runs in a worker thread (`anyio.to_thread`), serialised by a lock on
the one connection, as in `governance/sqlite_keys.py`. The request path never reads this file:
access tokens are looked up in the in-memory index the service fills from it at start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import anyio.to_thread

from mcp_gateway.server.oauth.records import ClientRecord, CodeRecord, Grant, TokenKind, TokenRecord
from mcp_gateway.storage import SQLiteFile, write_transaction

__all__ = ["SQLiteOAuthStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id TEXT PRIMARY KEY,
    metadata TEXT NOT NULL,
    secret_hash TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY,
    grant_json TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    redirect_explicit INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    grant_json TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_tokens_family ON oauth_tokens(family);
"""


def _grant_json(grant: Grant) -> str:
    return json.dumps(
        {
            "family": grant.family,
            "client_id": grant.client_id,
            "key_name": grant.key_name,
            "key_id": grant.key_id,
            "scopes": list(grant.scopes),
            "resource": grant.resource,
        }
    )


def _grant(text: str) -> Grant:
    raw = json.loads(text)
    return Grant(
        family=raw["family"],
        client_id=raw["client_id"],
        key_name=raw["key_name"],
        key_id=raw["key_id"],
        scopes=tuple(raw["scopes"]),
        resource=raw["resource"],
    )


def _token(row: sqlite3.Row) -> TokenRecord:
    kind: TokenKind = "access" if row["kind"] == "access" else "refresh"
    return TokenRecord(
        token_hash=row["token_hash"],
        kind=kind,
        grant=_grant(row["grant_json"]),
        expires_at=row["expires_at"],
        used=bool(row["used"]),
        revoked=bool(row["revoked"]),
    )


class SQLiteOAuthStore:
    """An `OAuthStore` in an SQLite file (created with its parent directory if missing)."""

    def __init__(self, path: str | Path) -> None:
        self._db = SQLiteFile(path, _SCHEMA)
        self.path = self._db.path
        self._run = self._db.run

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteOAuthStore:
        """Like the constructor, but opens the file and creates the schema in a worker thread."""
        return await anyio.to_thread.run_sync(cls, path)

    async def _execute(self, sql: str, params: Sequence[object]) -> int:
        return await self._run(lambda conn: conn.execute(sql, params).rowcount)

    async def add_client(self, client: ClientRecord) -> None:
        """Store a newly registered client."""
        sql = "INSERT INTO oauth_clients (client_id, metadata, secret_hash, created_at) VALUES (?, ?, ?, ?)"
        await self._execute(sql, (client.client_id, client.metadata_json, client.secret_hash, client.created_at))

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """The client with this id, or None."""
        sql = "SELECT client_id, metadata, secret_hash, created_at FROM oauth_clients WHERE client_id = ?"
        row = await self._run(lambda conn: conn.execute(sql, (client_id,)).fetchone())
        if row is None:
            return None
        return ClientRecord(row["client_id"], row["metadata"], row["secret_hash"], row["created_at"])

    async def add_code(self, code: CodeRecord) -> None:
        """Store a new authorization code."""
        sql = (
            "INSERT INTO oauth_codes (code_hash, grant_json, code_challenge, redirect_uri, redirect_explicit, "
            "expires_at, used) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        params = (
            code.code_hash,
            _grant_json(code.grant),
            code.code_challenge,
            code.redirect_uri,
            int(code.redirect_uri_provided_explicitly),
            code.expires_at,
            int(code.used),
        )
        await self._execute(sql, params)

    async def get_code(self, code_hash: str) -> CodeRecord | None:
        """The code with this hash, or None."""
        sql = "SELECT * FROM oauth_codes WHERE code_hash = ?"
        row = await self._run(lambda conn: conn.execute(sql, (code_hash,)).fetchone())
        if row is None:
            return None
        return CodeRecord(
            code_hash=row["code_hash"],
            grant=_grant(row["grant_json"]),
            code_challenge=row["code_challenge"],
            redirect_uri=row["redirect_uri"],
            redirect_uri_provided_explicitly=bool(row["redirect_explicit"]),
            expires_at=row["expires_at"],
            used=bool(row["used"]),
        )

    async def use_code(self, code_hash: str) -> bool:
        """Mark the code used; False if it already was or does not exist."""
        sql = "UPDATE oauth_codes SET used = 1 WHERE code_hash = ? AND used = 0"
        return await self._execute(sql, (code_hash,)) == 1

    async def add_tokens(self, tokens: Iterable[TokenRecord]) -> None:
        """Store newly issued tokens in one transaction."""
        rows = [
            (t.token_hash, t.kind, t.grant.family, _grant_json(t.grant), t.expires_at, int(t.used), int(t.revoked))
            for t in tokens
        ]
        sql = (
            "INSERT INTO oauth_tokens (token_hash, kind, family, grant_json, expires_at, used, revoked) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )

        def insert(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.executemany(sql, rows)

        await self._run(insert)

    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""
        sql = "SELECT * FROM oauth_tokens WHERE token_hash = ?"
        row = await self._run(lambda conn: conn.execute(sql, (token_hash,)).fetchone())
        return _token(row) if row is not None else None

    async def use_token(self, token_hash: str) -> bool:
        """Mark a refresh token used; False if it already was or does not exist."""
        sql = "UPDATE oauth_tokens SET used = 1 WHERE token_hash = ? AND used = 0"
        return await self._execute(sql, (token_hash,)) == 1

    async def revoke_family(self, family: str) -> None:
        """Revoke every token issued under one grant."""
        await self._execute("UPDATE oauth_tokens SET revoked = 1 WHERE family = ?", (family,))

    async def live_access_tokens(self, now: float) -> Sequence[TokenRecord]:
        """Unexpired, unrevoked access tokens."""
        sql = "SELECT * FROM oauth_tokens WHERE kind = 'access' AND revoked = 0 AND expires_at > ?"
        return await self._run(lambda conn: [_token(row) for row in conn.execute(sql, (now,))])

    async def purge(self, now: float) -> int:
        """Drop expired codes and tokens."""

        def purge(conn: sqlite3.Connection) -> int:
            codes = conn.execute("DELETE FROM oauth_codes WHERE expires_at <= ?", (now,)).rowcount
            return codes + conn.execute("DELETE FROM oauth_tokens WHERE expires_at <= ?", (now,)).rowcount

        return await self._run(purge)

    async def aclose(self) -> None:
        """Close the connection."""
        await self._db.aclose()
