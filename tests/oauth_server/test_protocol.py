"""The authorization server over plain HTTP: challenges, metadata, PKCE, consent, rotation,
expiry, revocation, key revocation and mixed credentials, against a real gateway on loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx2
import pytest

from mcp_gateway.governance import KeySpec
from tests.core.harness import RunningGateway, connect
from tests.oauth_server.flow import (
    REDIRECT_URI,
    Tokens,
    consent,
    form_fields,
    list_tools_status,
    login,
    oauth_gateway,
    pkce,
    refresh,
    register,
)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _tools(gw: RunningGateway, token: str) -> set[str]:
    async with connect(gw, headers=_bearer(token)) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_unauthenticated_requests_get_rfc9728_challenges_and_metadata_is_valid() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        base = gw.url
        with anyio.fail_after(20):
            for path, resource_path in (("/mcp", "/mcp"), ("/mcp/math", "/mcp/math"), ("/sse", "/sse")):
                method = http.get if path == "/sse" else http.post
                response = await method(f"{base}{path}")
                assert response.status_code == 401
                challenge = response.headers["www-authenticate"]
                expected = f'{base}/.well-known/oauth-protected-resource{resource_path}'
                assert challenge.startswith(f'Bearer resource_metadata="{expected}"'), challenge
                assert response.json()["error"]["type"] == "authentication_error"
                prm = (await http.get(expected)).json()
                assert prm["resource"] == f"{base}{resource_path}"
                assert prm["authorization_servers"] == [base]
                assert prm["bearer_methods_supported"] == ["header"]

            legacy_post = await http.post(f"{base}/messages/?session_id=abc")
            assert legacy_post.status_code == 401
            sse_metadata = f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/sse"'
            assert legacy_post.headers["www-authenticate"] == sse_metadata

            meta = (await http.get(f"{base}/.well-known/oauth-authorization-server")).json()
            assert meta["issuer"] == base
            assert meta["authorization_endpoint"] == f"{base}/authorize"
            assert meta["token_endpoint"] == f"{base}/token"
            assert meta["registration_endpoint"] == f"{base}/register"
            assert meta["revocation_endpoint"] == f"{base}/revoke"
            assert meta["code_challenge_methods_supported"] == ["S256"]
            assert meta["response_types_supported"] == ["code"]
            assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token"}
            assert meta["authorization_response_iss_parameter_supported"] is True
            # Unknown bearer tokens are refused with the same challenge plus error="invalid_token".
            bad = await list_tools_status(http, base, _bearer("mcpgat_not-a-token"))
            assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]


async def test_configured_issuer_url_is_used_everywhere() -> None:
    async with oauth_gateway(issuer_url="https://gw.example.com/") as (gw, _clock), httpx2.AsyncClient() as http:
        meta = (await http.get(f"{gw.url}/.well-known/oauth-authorization-server")).json()
        assert meta["issuer"] == "https://gw.example.com"
        assert meta["token_endpoint"] == "https://gw.example.com/token"
        response = await http.post(f"{gw.url}/mcp")
        assert 'resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource/mcp"' in (
            response.headers["www-authenticate"]
        )


async def test_token_carries_the_view_of_the_key_chosen_at_consent() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            alice = await login(http, gw.url, "alice-key")
            bob = await login(http, gw.url, "bob-key")
            assert isinstance(alice, Tokens) and isinstance(bob, Tokens)
            assert alice.access.startswith("mcpgat_") and alice.raw["token_type"] == "Bearer"
            assert alice.expires_in == 15 * 60 and alice.raw["scope"] == "mcp"
            assert await _tools(gw, alice.access) == {"demo__add"}
            assert await _tools(gw, bob.access) == {"demo__echo"}


@pytest.mark.parametrize("auth_method", ["none", "client_secret_basic"])
async def test_public_clients_and_basic_auth_clients_log_in(auth_method: str) -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            tokens = await login(http, gw.url, "bob-key", auth_method=auth_method)
            assert isinstance(tokens, Tokens), tokens.text
            assert (tokens.client_secret is None) == (auth_method == "none")
            assert await _tools(gw, tokens.access) == {"demo__echo"}


async def test_wrong_pkce_verifier_and_plain_method_are_rejected() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            refused = await login(http, gw.url, "alice-key", verifier_override="x" * 50)
            assert isinstance(refused, httpx2.Response) and refused.status_code == 400
            assert refused.json() == {"error": "invalid_grant", "error_description": "incorrect code_verifier"}

            client = await register(http, gw.url)
            verifier, _challenge = pkce()
            query = {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": REDIRECT_URI,
                "state": "s",
                "code_challenge": verifier,
                "code_challenge_method": "plain",
            }
            response = await http.get(f"{gw.url}/authorize?{urlencode(query)}")
            assert response.status_code == 302
            location = response.headers["location"]
            assert location.startswith(REDIRECT_URI) and "error=invalid_request" in location
            assert "consent" not in location


async def test_deny_redirects_with_access_denied_and_a_wrong_key_is_refused_on_the_page() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            client = await register(http, gw.url)
            _verifier, challenge = pkce()
            query = {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": REDIRECT_URI,
                "state": "s-deny",
                "code_challenge": challenge,
            }
            params = await consent(http, f"{gw.url}/authorize?{urlencode(query)}", None, decision="deny")
            assert params["error"] == ["access_denied"] and params["state"] == ["s-deny"]
            assert "code" not in params

            # A wrong key (or the admin key) re-renders the page with an error; no code is issued.
            start = await http.get(f"{gw.url}/authorize?{urlencode(query)}")
            page = await http.get(f"{gw.url}{start.headers['location']}")
            assert "Test Client" in page.text and "wants to use your MCP gateway" in page.text
            assert page.headers["x-frame-options"] == "DENY" and "script" not in page.text.lower()
            for key in ("wrong-key", "admin-secret"):
                again = await http.post(
                    f"{gw.url}/authorize/consent", data={**form_fields(page.text), "decision": "approve", "key": key}
                )
                assert again.status_code == 401 and "That key was not accepted" in again.text
            # Guessing keys on one page ends it: the fifth wrong key refuses the request.
            guess = {**form_fields(page.text), "decision": "approve", "key": "guess"}
            for _ in range(2):
                assert (await http.post(f"{gw.url}/authorize/consent", data=guess)).status_code == 401
            last = await http.post(f"{gw.url}/authorize/consent", data=guess)
            assert last.status_code == 303 and "error=access_denied" in last.headers["location"]
            gone = await http.post(f"{gw.url}/authorize/consent", data={**guess, "key": "alice-key"})
            assert gone.status_code == 400 and "expired" in gone.text


async def test_consent_form_without_the_csrf_cookie_is_refused() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        client = await register(http, gw.url)
        _verifier, challenge = pkce()
        query = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
        }
        start = await http.get(f"{gw.url}/authorize?{urlencode(query)}")
        page = await http.get(f"{gw.url}{start.headers['location']}")
        fields = form_fields(page.text)
        async with httpx2.AsyncClient(timeout=10) as other_site:  # no cookie: a cross-site POST
            forged = await other_site.post(
                f"{gw.url}/authorize/consent", data={**fields, "decision": "approve", "key": "alice-key"}
            )
        assert forged.status_code == 403 and "could not be verified" in forged.text
        tampered = await http.post(
            f"{gw.url}/authorize/consent",
            data={**fields, "csrf": "guess", "decision": "approve", "key": "alice-key"},
        )
        assert tampered.status_code == 403


async def test_refresh_rotates_and_reusing_a_spent_refresh_token_revokes_the_grant() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            first = await login(http, gw.url, "alice-key")
            assert isinstance(first, Tokens)
            rotated = await refresh(http, gw.url, first)
            assert rotated.status_code == 200, rotated.text
            second = rotated.json()
            assert second["refresh_token"] != first.refresh and second["access_token"] != first.access
            assert await _tools(gw, second["access_token"]) == {"demo__add"}

            reused = await refresh(http, gw.url, first)  # the spent refresh token again
            assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
            # Reuse means the token leaked: every token of the grant is gone, the new ones too.
            assert (await list_tools_status(http, gw.url, _bearer(second["access_token"]))).status_code == 401
            third = await refresh(http, gw.url, first, refresh_token=second["refresh_token"])
            assert third.status_code == 400 and third.json()["error"] == "invalid_grant"


async def test_replaying_an_authorization_code_revokes_what_it_gave() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            tokens = await login(http, gw.url, "alice-key")
            assert isinstance(tokens, Tokens)
            replay = await http.post(f"{gw.url}/token", data=tokens.redeemed)
            assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
            assert (await list_tools_status(http, gw.url, _bearer(tokens.access))).status_code == 401
            assert (await refresh(http, gw.url, tokens)).status_code == 400


async def test_expired_access_token_is_refused_and_a_refresh_brings_a_working_one() -> None:
    async with oauth_gateway(access_token_ttl="2m") as (gw, clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            tokens = await login(http, gw.url, "alice-key")
            assert isinstance(tokens, Tokens) and tokens.expires_in == 120
            clock.offset += 121
            expired = await list_tools_status(http, gw.url, _bearer(tokens.access))
            assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
            assert 'error="invalid_token"' in expired.headers["www-authenticate"]
            fresh = await refresh(http, gw.url, tokens)
            assert fresh.status_code == 200
            assert await _tools(gw, fresh.json()["access_token"]) == {"demo__add"}


async def test_revoking_the_key_stops_its_tokens_and_their_refresh() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        governance = gw.state.governance
        assert governance is not None
        with anyio.fail_after(20):
            created = await governance.create_key(KeySpec(name="dave", tool_groups=("words",)))
            tokens = await login(http, gw.url, created.plaintext)
            assert isinstance(tokens, Tokens)
            assert await _tools(gw, tokens.access) == {"demo__echo"}
            await governance.revoke_key(created.record.id)
            refused = await list_tools_status(http, gw.url, _bearer(tokens.access))
            assert refused.status_code == 401
            assert "revoked, disabled or gone" in refused.json()["error"]["message"]
            again = await refresh(http, gw.url, tokens)
            assert again.status_code == 400 and "no longer active" in again.json()["error_description"]


async def test_revocation_endpoint_ends_the_login() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            tokens = await login(http, gw.url, "alice-key")
            assert isinstance(tokens, Tokens)
            revoked = await http.post(
                f"{gw.url}/revoke",
                data={"token": tokens.access, "client_id": tokens.client_id, "client_secret": tokens.client_secret},
            )
            assert revoked.status_code == 200
            assert (await list_tools_status(http, gw.url, _bearer(tokens.access))).status_code == 401
            assert (await refresh(http, gw.url, tokens)).status_code == 400


async def test_token_and_virtual_key_in_one_request_is_a_clear_400() -> None:
    async with oauth_gateway() as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        tokens = await login(http, gw.url, "alice-key")
        assert isinstance(tokens, Tokens)
        both = await list_tools_status(http, gw.url, {**_bearer(tokens.access), "x-api-key": "bob-key"})
        assert both.status_code == 400
        message = both.json()["error"]["message"]
        assert "OAuth access token" in message and "virtual key" in message and "only one" in message
        assert "www-authenticate" not in both.headers


async def test_logins_survive_a_restart_with_a_data_dir_and_are_stored_hashed(tmp_path: Path) -> None:
    async with oauth_gateway(data_dir=tmp_path) as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        tokens = await login(http, gw.url, "alice-key")
        assert isinstance(tokens, Tokens)
    stored = (tmp_path / "oauth_server.db").read_bytes()
    for secret in (tokens.access, tokens.refresh, tokens.client_secret or "", "alice-key"):
        assert secret.encode() not in stored
    wal = tmp_path / "oauth_server.db-wal"
    if wal.exists():
        assert tokens.access.encode() not in wal.read_bytes()
    async with oauth_gateway(data_dir=tmp_path) as (gw, _clock), httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(20):
            assert await _tools(gw, tokens.access) == {"demo__add"}
            rotated = await refresh(http, gw.url, tokens)
            assert rotated.status_code == 200, rotated.text


def test_bad_oauth_config_names_the_key() -> None:
    from mcp_gateway.config import parse_config
    from mcp_gateway.errors import ConfigError

    with pytest.raises(ConfigError, match=r"gateway\.oauth\.access_token_ttl"):
        parse_config({"gateway": {"oauth": {"enabled": True, "access_token_ttl": "soon"}}}, "t.yaml")
