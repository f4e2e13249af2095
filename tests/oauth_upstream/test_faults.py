"""Faults around upstream OAuth: a flaky or absent authorization server, revocation, restarts."""

from __future__ import annotations

import stat
from pathlib import Path

import anyio
import pytest

from mcp_gateway.upstream.connection import UpstreamState
from mcp_gateway.upstream.oauth import AuthState, OAuthSession
from tests.oauth_upstream.conftest import Gateway, oauth_server, running_gateway
from tests.oauth_upstream.servers import protected_server
from tests.oauth_upstream.test_login_flow import call_tool, login

pytestmark = pytest.mark.anyio


def _session(gw: Gateway, name: str) -> OAuthSession:
    assert gw.state.upstream_auth is not None
    return gw.state.upstream_auth.session(name)


async def _wait(session: OAuthSession, done: object, within: float = 20) -> None:
    assert callable(done)
    with anyio.fail_after(within):
        while not done():
            await session.wait_changed()


async def test_token_endpoint_errors_are_retried_without_losing_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastmcp.server.auth.providers import in_memory

    monkeypatch.setattr(in_memory, "DEFAULT_ACCESS_TOKEN_EXPIRY_SECONDS", 6)
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        await login(gw, "secured")
        session = _session(gw, "secured")
        first = session.tokens
        upstream.token_faults = 2  # the next two token requests get HTTP 503
        await _wait(session, lambda: session.refreshes >= 1)
        refreshes = [r for r in upstream.token_requests if r["grant_type"] == "refresh_token"]
        assert len(refreshes) == 3  # two 503s, retried with backoff, then the good one
        assert {r["refresh_token"] for r in refreshes} == {first.refresh_token if first else None}
        assert session.state is AuthState.AUTHORIZED
        assert await call_tool(gw, "secured__add", {"a": 20, "b": 22}) == "42"


async def test_authorization_server_down_during_refresh_then_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastmcp.server.auth.providers import in_memory

    monkeypatch.setattr(in_memory, "DEFAULT_ACCESS_TOKEN_EXPIRY_SECONDS", 4)
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        await login(gw, "secured")
        session = _session(gw, "secured")
        first = session.tokens
        assert first is not None
        await upstream.stop()
        # The refresh comes due while nothing listens: it fails, is retried, and the login stays.
        await _wait(session, lambda: (session.last_error or "").startswith("refresh failed"))
        assert session.state is AuthState.AUTHORIZED
        assert session.tokens is first
        assert gw.state.upstream_auth is not None
        status = (await gw.api("GET", "/api/servers/secured/auth")).json()
        assert status["state"] == "authorized" and "refresh failed" in status["last_error"]
        await upstream.start()
        await _wait(session, lambda: session.refreshes >= 1, within=40)
        assert session.state is AuthState.AUTHORIZED and session.last_error is None
        await gw.wait_state("secured", UpstreamState.READY)
        assert await call_tool(gw, "secured__whoami", {}) == "secured"


async def test_revoked_refresh_token_needs_reauth_and_others_are_unaffected(tmp_path: Path) -> None:
    async with (
        protected_server("alpha") as alpha,
        protected_server("beta") as beta,
        running_gateway({"alpha": oauth_server(alpha.url), "beta": oauth_server(beta.url)}, tmp_path) as gw,
    ):
        await login(gw, "alpha")
        await login(gw, "beta")
        session = _session(gw, "alpha")
        tokens = session.tokens
        assert tokens is not None and tokens.refresh_token is not None
        # Revoked at the authorization server (with its access token, as RFC 7009 allows).
        alpha.provider._revoke_internal(refresh_token_str=tokens.refresh_token)
        with pytest.raises(AssertionError):
            await call_tool(gw, "alpha__whoami", {})
        await _wait(session, lambda: session.state is AuthState.NEEDS_REAUTH)
        assert "invalid_grant" in (session.last_error or "")
        await gw.wait_state("alpha", UpstreamState.NEEDS_LOGIN)
        servers = {s["name"]: s for s in (await gw.api("GET", "/api/servers")).json()["servers"]}
        assert servers["alpha"]["state"] == "needs_login"
        assert servers["alpha"]["auth"]["state"] == "needs_reauth"
        assert servers["beta"]["state"] == "ready" and servers["beta"]["auth"]["state"] == "authorized"
        assert await call_tool(gw, "beta__whoami", {}) == "beta"
        # A new login brings it back, with the client registered the first time.
        await login(gw, "alpha")
        assert await call_tool(gw, "alpha__whoami", {}) == "alpha"
        assert len(alpha.provider.clients) == 1


async def test_restart_keeps_tokens_encrypted_on_disk(tmp_path: Path) -> None:
    async with protected_server() as upstream:
        async with running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
            await login(gw, "secured")
            tokens = _session(gw, "secured").tokens
            client = _session(gw, "secured").status()["client_id"]
        assert tokens is not None and tokens.refresh_token is not None
        secret = upstream.provider.clients[client].client_secret
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("oauth.db"))  # noqa: ASYNC240
        assert raw, "the token store was not written"
        for clear in (tokens.access_token, tokens.refresh_token, secret):
            assert clear is not None and clear.encode() not in raw
        key_file = tmp_path / "secret.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        # A new gateway on the same data dir connects without a login.
        async with running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
            await gw.wait_state("secured", UpstreamState.READY)
            session = _session(gw, "secured")
            assert session.tokens == tokens
            assert await call_tool(gw, "secured__add", {"a": 1, "b": 2}) == "3"
            # The stored client record is enough to refresh: no discovery after a restart.
            del upstream.provider.access_tokens[tokens.access_token]
            assert await call_tool(gw, "secured__add", {"a": 2, "b": 2}) == "4"
            assert session.refreshes == 1 and session.tokens != tokens
