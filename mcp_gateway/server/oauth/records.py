"""What the authorization server keeps: clients, authorization codes and tokens, and their hashes.

Secrets (client secrets, codes, access and refresh tokens) are stored only as `sha256` hex
digests: they are 256-bit random strings, so a fast unsalted hash is enough (nothing to guess)
and lookup stays one dict access. Grants name the virtual key they are bound to by name and id,
never by its plaintext.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mcp_gateway.governance.identity import Identity

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "CODE_PREFIX",
    "REFRESH_TOKEN_PREFIX",
    "ClientRecord",
    "CodeRecord",
    "Grant",
    "TokenKind",
    "TokenRecord",
    "digest",
    "is_access_token",
    "new_secret",
]

ACCESS_TOKEN_PREFIX = "mcpgat_"
"""Gateway-issued access tokens start with this, so the authenticator routes them to the token
index instead of the key table. Generated virtual keys start with `mcpg_`, which never matches."""

REFRESH_TOKEN_PREFIX = "mcpgrt_"
CODE_PREFIX = "mcpgac_"

TokenKind = Literal["access", "refresh"]


def new_secret(prefix: str) -> str:
    """A fresh 256-bit random secret with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 hex digest."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_access_token(credential: str) -> bool:
    """True when `credential` looks like an access token this gateway issued."""
    return credential.startswith(ACCESS_TOKEN_PREFIX)


@dataclass(frozen=True, slots=True)
class Grant:
    """Who approved what: the client, the virtual key chosen on the consent page, and the scopes.

    `family` ties together the code and every token issued from it, so reusing a spent refresh
    token (or code) revokes them all at once.
    """

    family: str
    client_id: str
    key_name: str
    key_id: str | None
    scopes: tuple[str, ...]
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered client: its RFC 7591 metadata as JSON (secret removed) and the secret's hash."""

    client_id: str
    metadata_json: str
    secret_hash: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """An authorization code waiting for its token request (single use, short-lived)."""

    code_hash: str
    grant: Grant
    code_challenge: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    expires_at: float
    used: bool = False


@dataclass(slots=True)
class TokenRecord:
    """An access or refresh token. `used` marks a rotated refresh token, kept to detect reuse."""

    token_hash: str
    kind: TokenKind
    grant: Grant
    expires_at: float
    used: bool = False
    revoked: bool = False
    resolved: tuple[int, Identity] | None = field(default=None, compare=False)
    """Cache of (governance generation, identity) so the hot path skips the name lookup."""
