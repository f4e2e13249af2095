"""The `auth:` config block, the key that seals tokens at rest, and the token stores."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from mcp.shared.auth import OAuthClientInformationFull

from mcp_gateway.config import parse_config
from mcp_gateway.config.auth import BearerAuth, OAuthAuth
from mcp_gateway.errors import ConfigError
from mcp_gateway.upstream.oauth import (
    SECRET_KEY_ENV,
    ClientRecord,
    MemoryTokenStore,
    SQLiteTokenStore,
    TokenSet,
    load_secret_box,
)

pytestmark = pytest.mark.anyio


def _server(**extra: object) -> dict[str, object]:
    return {"servers": {"gh": {"transport": "http", "url": "https://example.com/mcp", **extra}}}


def test_auth_blocks_parse() -> None:
    config = parse_config(_server(auth={"type": "oauth", "scopes": ["repo"], "client_id": "abc"}), "t")
    auth = config.servers["gh"].auth  # type: ignore[union-attr]
    assert isinstance(auth, OAuthAuth) and auth.scopes == ["repo"] and auth.client_id == "abc"
    config = parse_config(_server(auth={"type": "bearer", "token": "${TOKEN}"}), "t", env={"TOKEN": "t0k"})
    auth = config.servers["gh"].auth  # type: ignore[union-attr]
    assert isinstance(auth, BearerAuth) and auth.token == "t0k"


@pytest.mark.parametrize(
    ("auth", "path", "words"),
    [
        ({"type": "basic"}, "servers.gh.auth", "oauth"),
        ({"type": "bearer"}, "servers.gh.auth.token", "required"),
        ({"type": "oauth", "scope": "x"}, "servers.gh.auth.scope", "unknown key"),
        ({"scopes": []}, "servers.gh.auth", "expected oauth or bearer"),
        ({"type": "bearer", "token": "${MISSING}"}, "servers.gh.auth.token", "MISSING"),
    ],
)
def test_bad_auth_blocks_name_the_key_path(auth: dict[str, object], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_server(auth=auth), "gateway.yaml", env={})
    paths = [p for p, _ in info.value.problems]
    assert path in paths, info.value.problems
    assert words.lower() in str(info.value).lower()


def test_auth_is_refused_on_stdio_servers() -> None:
    raw = {"servers": {"local": {"transport": "stdio", "command": "x", "auth": {"type": "bearer", "token": "t"}}}}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "gateway.yaml")
    assert ("servers.local.auth", "unknown key") in info.value.problems


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    box = load_secret_box(tmp_path, env={})
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = box.seal(b"hello")
    assert load_secret_box(tmp_path, env={}).open(sealed) == b"hello"
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret_box(tmp_path, env={})


def test_env_key_wins_and_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    sealed = load_secret_box(tmp_path, env={SECRET_KEY_ENV: "correct horse battery staple"}).seal(b"x")
    assert not (tmp_path / "secret.key").exists()
    assert load_secret_box(None, env={SECRET_KEY_ENV: "correct horse battery staple"}).open(sealed) == b"x"
    with pytest.raises(ConfigError, match="cannot decrypt"):
        load_secret_box(None, env={SECRET_KEY_ENV: "another passphrase"}).open(sealed)


def _client() -> ClientRecord:
    info = OAuthClientInformationFull(client_id="cid", client_secret="client-secret-value")
    return ClientRecord(info, "https://as.example/", True, "https://as.example/token", "https://example.com/mcp")


async def test_sqlite_store_round_trip_without_clear_text(tmp_path: Path) -> None:
    path = tmp_path / "oauth.db"
    store = await SQLiteTokenStore.open(path, load_secret_box(tmp_path, env={}))
    tokens = TokenSet("access-token-value", "refresh-token-value", 123.0, "repo", 100.0)
    await store.put_client("gh", "https://example.com/mcp", _client())
    await store.put_tokens("gh", "https://example.com/mcp", tokens)
    stored = await store.get("gh")
    assert stored is not None and stored.tokens == tokens and stored.client == _client()
    await store.put_tokens("gh", "https://example.com/mcp", None)
    stored = await store.get("gh")
    assert stored is not None and stored.tokens is None and stored.client is not None
    await store.put_tokens("gh", "https://example.com/mcp", tokens)
    await store.aclose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("oauth.db"))  # noqa: ASYNC240
    for clear in (b"access-token-value", b"refresh-token-value", b"client-secret-value"):
        assert clear not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_memory_store_keeps_tokens_and_client_apart() -> None:
    store = MemoryTokenStore()
    assert await store.get("gh") is None
    await store.put_client("gh", "u", _client())
    await store.put_tokens("gh", "u", TokenSet("a", None, None, None, 1.0))
    stored = await store.get("gh")
    assert stored is not None and stored.client == _client() and stored.tokens is not None
