"""Both `OAuthStore`s keep the same contract: single-use codes and refresh tokens, family
revocation, live-token listing and purging; and the package's public face is real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_gateway.server import oauth
from mcp_gateway.server.oauth import MemoryOAuthStore, OAuthStore, SQLiteOAuthStore
from mcp_gateway.server.oauth.records import ClientRecord, CodeRecord, Grant, TokenRecord, digest


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OAuthStore]:
    opened: OAuthStore = MemoryOAuthStore() if request.param == "memory" else await SQLiteOAuthStore.open(
        tmp_path / "oauth_server.db"
    )
    yield opened
    await opened.aclose()


GRANT = Grant("fam-1", "client-1", "alice", "config:alice", ("mcp",), "http://127.0.0.1/mcp")
OTHER = Grant("fam-2", "client-1", "bob", "config:bob", ("mcp",))


async def test_codes_are_single_use(store: OAuthStore) -> None:
    await store.add_code(CodeRecord(digest("c"), GRANT, "challenge", "http://127.0.0.1:9/cb", True, 100.0))
    code = await store.get_code(digest("c"))
    assert code is not None and code.grant == GRANT and not code.used
    assert await store.use_code(digest("c")) is True
    assert await store.use_code(digest("c")) is False
    used = await store.get_code(digest("c"))
    assert used is not None and used.used
    assert await store.get_code(digest("nope")) is None


async def test_tokens_rotate_once_revoke_by_family_and_purge(store: OAuthStore) -> None:
    await store.add_client(ClientRecord("client-1", '{"client_id": "client-1"}', digest("secret"), 1.0))
    client = await store.get_client("client-1")
    assert client is not None and client.secret_hash == digest("secret")
    await store.add_tokens(
        [
            TokenRecord(digest("a1"), "access", GRANT, 100.0),
            TokenRecord(digest("r1"), "refresh", GRANT, 1000.0),
            TokenRecord(digest("a2"), "access", OTHER, 100.0),
            TokenRecord(digest("old"), "access", OTHER, 10.0),
        ]
    )
    assert await store.use_token(digest("r1")) is True
    assert await store.use_token(digest("r1")) is False
    live = {t.token_hash for t in await store.live_access_tokens(50.0)}
    assert live == {digest("a1"), digest("a2")}
    await store.revoke_family("fam-1")
    revoked = await store.get_token(digest("a1"))
    assert revoked is not None and revoked.revoked
    assert {t.token_hash for t in await store.live_access_tokens(50.0)} == {digest("a2")}
    assert await store.purge(50.0) == 1  # only the token that expired at 10
    assert await store.get_token(digest("old")) is None
    refresh = await store.get_token(digest("r1"))
    assert refresh is not None and refresh.used and refresh.revoked and refresh.grant == GRANT


def test_public_names_exist() -> None:
    assert sorted(oauth.__all__) == sorted(set(oauth.__all__))
    for name in oauth.__all__:
        assert getattr(oauth, name) is not None, name


def test_modules_stay_small() -> None:
    package = Path(oauth.__file__).parent
    sizes = {path.name: len(path.read_text().splitlines()) for path in package.glob("*.py")}
    assert max(sizes.values()) <= 600, sizes
