"""The whole upstream OAuth flow against a real OAuth-protected MCP server on loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
import pytest

from mcp_gateway.upstream.connection import UpstreamState
from mcp_gateway.upstream.oauth import AuthState, OAuthSession, SQLiteTokenStore, load_secret_box
from tests.core.harness import RunningGateway as CoreGateway
from tests.core.harness import connect
from tests.oauth_upstream.conftest import KEY, Gateway, oauth_server, running_gateway
from tests.oauth_upstream.servers import browser_login, protected_server

pytestmark = pytest.mark.anyio


def _session(gw: Gateway, name: str) -> OAuthSession:
    assert gw.state.upstream_auth is not None
    return gw.state.upstream_auth.session(name)


async def call_tool(gw: Gateway, tool: str, args: dict[str, object]) -> str:
    async with connect(CoreGateway(url=gw.url, state=gw.state, key=KEY)) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result
    text = result.content[0]
    assert text.type == "text"
    return text.text


async def login(gw: Gateway, name: str) -> dict[str, object]:
    """Start a login through the admin API and play the browser; returns the login answer."""
    response = await gw.api("POST", f"/api/servers/{name}/auth/login")
    assert response.status_code == 200, response.text
    started = response.json()
    page = await browser_login(started["authorization_url"])
    assert page.status_code == 200, page.text
    assert "Logged in" in page.text
    await gw.wait_state(name, UpstreamState.READY)
    return started


async def test_discovery_registration_pkce_and_a_tool_call(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        # Waiting for a login does not hold up the gateway: it is ready, the upstream says why it waits.
        assert gw.state.upstreams["secured"].state is UpstreamState.NEEDS_LOGIN
        async with httpx2.AsyncClient() as http:
            assert (await http.get(gw.url + "/readyz")).status_code == 200
        listed = (await gw.api("GET", "/api/servers")).json()["servers"][0]
        assert listed["state"] == "needs_login"
        assert listed["auth"]["state"] == "needs_login"
        assert (await gw.api("GET", "/api/servers/secured/auth")).json()["state"] == "needs_login"

        response = await gw.api("POST", "/api/servers/secured/auth/login")
        assert response.status_code == 200, response.text
        url = response.json()["authorization_url"]
        query = parse_qs(urlparse(url).query)
        # Registered dynamically (RFC 7591): the provider knows the client the URL names.
        assert query["client_id"][0] in upstream.provider.clients
        assert query["code_challenge_method"] == ["S256"]
        assert query["resource"] == [upstream.url]  # RFC 8707
        assert query["redirect_uri"] == [gw.url + "/oauth/callback"]

        page = await browser_login(url)
        assert page.status_code == 200 and "Logged in" in page.text
        await gw.wait_state("secured", UpstreamState.READY)
        assert await call_tool(gw, "secured__add", {"a": 2, "b": 3}) == "5"

        exchange = [r for r in upstream.token_requests if r["grant_type"] == "authorization_code"]
        assert len(exchange) == 1 and len(exchange[0]["code_verifier"]) >= 43
        assert exchange[0]["resource"] == upstream.url
        status = (await gw.api("GET", "/api/servers/secured/auth")).json()
        assert status["state"] == "authorized" and status["logins"] == 1 and status["has_refresh_token"]
        assert "access_token" not in status and "refresh_token" not in status


async def test_wrong_pkce_verifier_is_rejected_by_the_authorization_server(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        started = (await gw.api("POST", "/api/servers/secured/auth/login")).json()
        client_id = parse_qs(urlparse(started["authorization_url"]).query)["client_id"][0]
        async with httpx2.AsyncClient(follow_redirects=False) as browser:
            approval = await browser.get(started["authorization_url"])
            assert approval.status_code in (302, 303, 307)
            callback = approval.headers["location"]
            code = parse_qs(urlparse(callback).query)["code"][0]
            wrong = await browser.post(
                upstream.base_url + "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": started["redirect_uri"],
                    "client_id": client_id,
                    "client_secret": upstream.provider.clients[client_id].client_secret or "",
                    "code_verifier": "x" * 64,
                },
            )
            assert wrong.status_code in (400, 401), wrong.text
            assert wrong.json() == {"error": "invalid_grant", "error_description": "incorrect code_verifier"}
            # The gateway holds the right verifier: the same code goes through its callback.
            page = await browser.get(callback)
            assert page.status_code == 200, page.text
        await gw.wait_state("secured", UpstreamState.READY)
        assert await call_tool(gw, "secured__whoami", {}) == "secured"


async def test_a_callback_with_an_unknown_state_is_refused(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        async with httpx2.AsyncClient() as http:
            page = await http.get(gw.url + "/oauth/callback", params={"code": "abc", "state": "forged"})
        assert page.status_code == 400
        assert _session(gw, "secured").state is AuthState.NEEDS_LOGIN
        # Admin routes need the admin key.
        async with httpx2.AsyncClient() as http:
            refused = await http.post(gw.url + "/api/servers/secured/auth/login")
        assert refused.status_code == 401


async def test_refused_token_refreshes_inline_and_rotates(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        await login(gw, "secured")
        session = _session(gw, "secured")
        before = session.tokens
        assert before is not None and before.refresh_token is not None
        # The resource server forgets the access token (as after a key rotation): the next call gets a 401.
        del upstream.provider.access_tokens[before.access_token]
        assert await call_tool(gw, "secured__add", {"a": 1, "b": 1}) == "2"
        after = session.tokens
        assert after is not None and after.access_token != before.access_token
        assert after.refresh_token != before.refresh_token  # rotated
        assert before.refresh_token not in upstream.provider.refresh_tokens  # the old one is spent
        assert session.refreshes == 1 and session.state is AuthState.AUTHORIZED
        # What is stored is the new pair (read through a second connection to the same file).
        store = await SQLiteTokenStore.open(tmp_path / "oauth.db", load_secret_box(tmp_path))
        try:
            stored = await store.get("secured")
        finally:
            await store.aclose()
        assert stored is not None and stored.tokens == after
        assert gw.state.upstreams["secured"].state is UpstreamState.READY


async def test_refresh_ahead_of_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastmcp.server.auth.providers import in_memory

    monkeypatch.setattr(in_memory, "DEFAULT_ACCESS_TOKEN_EXPIRY_SECONDS", 8)
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        await login(gw, "secured")
        session = _session(gw, "secured")
        first = session.tokens
        assert first is not None and first.expires_at is not None
        assert session.refreshes == 0
        with anyio.fail_after(15):
            while session.refreshes == 0:
                await session.wait_changed()
        assert session.tokens is not None and session.tokens.access_token != first.access_token
        # Refreshed before the old token expired, without any request failing first.
        assert session.last_refresh_at is not None and session.last_refresh_at < first.expires_at
        assert not [r for r in upstream.token_requests if r.get("refresh_token") == session.tokens.refresh_token]
        assert await call_tool(gw, "secured__add", {"a": 4, "b": 4}) == "8"


async def test_sse_upstream_with_oauth(tmp_path: Path) -> None:
    async with protected_server("legacy", sse=True) as upstream:
        config = {**oauth_server(upstream.url), "transport": "sse"}
        async with running_gateway({"legacy": config}, tmp_path) as gw:
            assert gw.state.upstreams["legacy"].state is UpstreamState.NEEDS_LOGIN
            await login(gw, "legacy")
            assert await call_tool(gw, "legacy__add", {"a": 5, "b": 6}) == "11"
            session = _session(gw, "legacy")
            tokens = session.tokens
            assert tokens is not None
            del upstream.provider.access_tokens[tokens.access_token]
            assert await call_tool(gw, "legacy__whoami", {}) == "legacy"
            assert session.refreshes == 1
