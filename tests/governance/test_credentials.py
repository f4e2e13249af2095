"""Reading credentials from headers; the hashed form; generated keys."""

from __future__ import annotations

import hashlib

import pytest
from starlette.datastructures import Headers

from mcp_gateway.errors import AuthenticationError
from mcp_gateway.governance import KEY_PREFIX, credential_from_headers, generate_key, hash_key
from mcp_gateway.governance.credentials import is_key_hash


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer   abc  "}, "abc"),
        ({"X-Api-Key": "abc"}, "abc"),
        ({"Authorization": "Bearer abc", "x-api-key": "abc"}, "abc"),  # the same key twice is fine
        ({"content-type": "application/json"}, None),
    ],
)
def test_credential_from_mapping(headers: dict[str, str], expected: str | None) -> None:
    assert credential_from_headers(headers) == expected


def test_credential_from_raw_asgi_headers() -> None:
    assert credential_from_headers([(b"x-api-key", b"k1"), (b"host", b"x")]) == "k1"


@pytest.mark.parametrize(
    "raw",
    [
        [(b"authorization", b"Bearer one"), (b"x-api-key", b"two")],
        [(b"authorization", b"Bearer one"), (b"authorization", b"Bearer two")],
        [(b"x-api-key", b"one"), (b"x-api-key", b"two")],
    ],
)
def test_two_different_credentials_are_refused(raw: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(AuthenticationError, match="two different credentials"):
        credential_from_headers(raw)
    with pytest.raises(AuthenticationError):  # Starlette's Headers keeps repeated headers too
        credential_from_headers(Headers(raw=raw))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([(b"authorization", b"Basic dXNlcjpwYXNz")], "use 'Authorization: Bearer"),
        ([(b"authorization", b"Bearer ")], "empty API key"),
        ([(b"x-api-key", b"  ")], "empty API key"),
    ],
)
def test_malformed_credentials(raw: list[tuple[bytes, bytes]], message: str) -> None:
    with pytest.raises(AuthenticationError, match=message) as info:
        credential_from_headers(raw)
    assert info.value.status == 401


def test_hash_form() -> None:
    digest = hash_key("abc")
    assert digest == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert is_key_hash(digest) and not is_key_hash("abc") and not is_key_hash(digest.upper())


def test_generated_keys_are_prefixed_random_and_long() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith(KEY_PREFIX) and len(k) == len(KEY_PREFIX) + 43 for k in keys)
