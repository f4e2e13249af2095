"""Where the authorization server keeps its records: the `OAuthStore` seam and its in-memory form.

The SQLite form (`sqlite_store.py`) keeps the same records in `<data_dir>/oauth_server.db` so
logins survive a restart. Every secret arrives here already hashed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Protocol

from mcp_gateway.server.oauth.records import ClientRecord, CodeRecord, TokenRecord

__all__ = ["MemoryOAuthStore", "OAuthStore"]


class OAuthStore(Protocol):
    """Persistence of clients, codes and tokens. Methods that consume something are atomic."""

    async def add_client(self, client: ClientRecord) -> None:
        """Store a newly registered client."""
        ...

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """The client with this id, or None."""
        ...

    async def add_code(self, code: CodeRecord) -> None:
        """Store a new authorization code."""
        ...

    async def get_code(self, code_hash: str) -> CodeRecord | None:
        """The code with this hash (used or not), or None."""
        ...

    async def use_code(self, code_hash: str) -> bool:
        """Mark the code used; False if it was already used or does not exist."""
        ...

    async def add_tokens(self, tokens: Iterable[TokenRecord]) -> None:
        """Store newly issued tokens."""
        ...

    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash (used, revoked or expired included), or None."""
        ...

    async def use_token(self, token_hash: str) -> bool:
        """Mark a refresh token used (rotated); False if it already was or does not exist."""
        ...

    async def revoke_family(self, family: str) -> None:
        """Revoke every token issued under one grant."""
        ...

    async def live_access_tokens(self, now: float) -> Sequence[TokenRecord]:
        """Unexpired, unrevoked access tokens, to fill the in-memory index at start."""
        ...

    async def purge(self, now: float) -> int:
        """Drop expired codes and tokens; return how many rows went."""
        ...

    async def aclose(self) -> None:
        """Release the store."""
        ...


class MemoryOAuthStore:
    """An `OAuthStore` in dicts: logins last as long as the process (no data directory)."""

    def __init__(self) -> None:
        self._clients: dict[str, ClientRecord] = {}
        self._codes: dict[str, CodeRecord] = {}
        self._tokens: dict[str, TokenRecord] = {}

    async def add_client(self, client: ClientRecord) -> None:
        """Store a newly registered client."""
        self._clients[client.client_id] = client

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """The client with this id, or None."""
        return self._clients.get(client_id)

    async def add_code(self, code: CodeRecord) -> None:
        """Store a new authorization code."""
        self._codes[code.code_hash] = code

    async def get_code(self, code_hash: str) -> CodeRecord | None:
        """The code with this hash, or None."""
        return self._codes.get(code_hash)

    async def use_code(self, code_hash: str) -> bool:
        """Mark the code used; False if it already was or does not exist."""
        code = self._codes.get(code_hash)
        if code is None or code.used:
            return False
        self._codes[code_hash] = dataclasses.replace(code, used=True)
        return True

    async def add_tokens(self, tokens: Iterable[TokenRecord]) -> None:
        """Store newly issued tokens."""
        for token in tokens:
            self._tokens[token.token_hash] = dataclasses.replace(token, resolved=None)

    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """A copy of the token with this hash, or None."""
        token = self._tokens.get(token_hash)
        return dataclasses.replace(token) if token is not None else None

    async def use_token(self, token_hash: str) -> bool:
        """Mark a refresh token used; False if it already was or does not exist."""
        token = self._tokens.get(token_hash)
        if token is None or token.used:
            return False
        token.used = True
        return True

    async def revoke_family(self, family: str) -> None:
        """Revoke every token issued under one grant."""
        for token in self._tokens.values():
            if token.grant.family == family:
                token.revoked = True

    async def live_access_tokens(self, now: float) -> Sequence[TokenRecord]:
        """Unexpired, unrevoked access tokens."""
        return [
            dataclasses.replace(t)
            for t in self._tokens.values()
            if t.kind == "access" and not t.revoked and t.expires_at > now
        ]

    async def purge(self, now: float) -> int:
        """Drop expired codes and tokens."""
        codes = [h for h, c in self._codes.items() if c.expires_at <= now]
        tokens = [h for h, t in self._tokens.items() if t.expires_at <= now]
        for h in codes:
            del self._codes[h]
        for h in tokens:
            del self._tokens[h]
        return len(codes) + len(tokens)

    async def aclose(self) -> None:
        """Nothing to release."""
