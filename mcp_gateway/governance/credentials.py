"""Credentials: reading them from request headers, generating keys, and the hashed form we store.

Keys are stored as `sha256:<hex>` of the key. A plain (unsalted, fast) hash is enough because
generated keys are 256-bit random tokens: there is no dictionary to attack, and a fast hash keeps
authentication to one dict lookup. Keys written by hand in the YAML should be just as random.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping

from mcp_gateway.errors import AuthenticationError

__all__ = ["KEY_PREFIX", "credential_from_headers", "generate_key", "hash_key", "is_key_hash"]

KEY_PREFIX = "mcpg_"
"""Generated keys start with this, so secret scanners and humans can recognise them."""

_HASH_PREFIX = "sha256:"

HeaderSource = Mapping[str, str] | Iterable[tuple[bytes | str, bytes | str]]


def hash_key(key: str) -> str:
    """The stored form of `key`: `sha256:<64 hex digits>`."""
    return _HASH_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_key_hash(text: str) -> bool:
    """True when `text` already is a stored form (`sha256:<64 lowercase hex>`)."""
    digest = text.removeprefix(_HASH_PREFIX)
    return text.startswith(_HASH_PREFIX) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def generate_key() -> str:
    """A new random key: the prefix and 43 URL-safe characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


_CREDENTIAL_HEADERS = frozenset((b"authorization", b"x-api-key"))


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def credential_from_headers(headers: HeaderSource) -> str | None:
    """The credential of a request, from `Authorization: Bearer <key>` or `x-api-key: <key>`.

    Accepts a mapping (Starlette `Headers` yields repeated headers from `.items()`) or raw ASGI
    `(name, value)` pairs. Returns None when neither header is present. Raises
    `AuthenticationError` for a non-Bearer `Authorization`, an empty key, or two different
    credentials in one request (ambiguous: which identity would we charge?).
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: set[str] = set()
    for raw_name, raw_value in pairs:
        if isinstance(raw_name, bytes) and raw_name.lower() not in _CREDENTIAL_HEADERS:
            continue  # skip decoding the headers that cannot carry a credential
        name = _text(raw_name).lower()
        if name == "authorization":
            scheme, _, token = _text(raw_value).strip().partition(" ")
            if scheme.lower() != "bearer":
                raise AuthenticationError("unsupported Authorization scheme; use 'Authorization: Bearer <key>'")
            found.add(token.strip())
        elif name == "x-api-key":
            found.add(_text(raw_value).strip())
    if not found:
        return None
    if "" in found:
        raise AuthenticationError("empty API key")
    if len(found) > 1:
        raise AuthenticationError("the request carries two different credentials; send exactly one")
    return found.pop()
