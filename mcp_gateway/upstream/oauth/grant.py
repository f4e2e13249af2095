"""Talk to an authorization server's endpoints: register a client, exchange a code, refresh.

Every failure is sorted into one of two kinds, because that decides whether the user keeps
their login:

- `TransientOAuthError`: no answer (connection refused, reset, timeout), HTTP 5xx or 429, or an
  answer that is not an OAuth error at all (a proxy's HTML page). Retried; the tokens stay.
- `DefinitiveOAuthError`: the server answered with an OAuth error (`invalid_grant`,
  `invalid_client`, ...). The grant is gone; a person must log in again.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx2
from mcp.client.auth.exceptions import OAuthRegistrationError
from mcp.client.auth.oauth2 import check_registration_usable
from mcp.client.auth.utils import create_client_registration_request, handle_registration_response
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken
from pydantic import ValidationError

from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, TransientOAuthError
from mcp_gateway.upstream.oauth.records import TokenSet

__all__ = ["exchange_code", "refresh_tokens", "register_client"]

_RETRYABLE_ERRORS = {"temporarily_unavailable", "server_error", "slow_down"}


async def register_client(
    http: httpx2.AsyncClient, server: str, metadata: OAuthMetadata, client: OAuthClientMetadata
) -> OAuthClientInformationFull:
    """Dynamic client registration (RFC 7591) at the server's registration endpoint."""
    if metadata.registration_endpoint is None:
        raise DefinitiveOAuthError(
            server,
            "registration_not_supported",
            "the authorization server offers no dynamic registration; configure auth.client_id",
        )
    request = create_client_registration_request(metadata, client, str(metadata.issuer))
    try:
        response = await http.send(request)
    except httpx2.HTTPError as exc:
        raise TransientOAuthError(server, f"client registration: {exc!r}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientOAuthError(server, f"client registration: HTTP {response.status_code}")
    try:
        info = await handle_registration_response(response)
        check_registration_usable(info)
    except OAuthRegistrationError as exc:
        raise DefinitiveOAuthError(server, "invalid_client_metadata", str(exc)) from exc
    return info


def _client_auth(client: OAuthClientInformationFull, data: dict[str, str]) -> dict[str, str]:
    """Authenticate the token request as the client registered for (RFC 6749 section 2.3.1)."""
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    data["client_id"] = client.client_id
    method = client.token_endpoint_auth_method
    if client.client_secret and method == "client_secret_basic":
        pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif client.client_secret and method in ("client_secret_post", None):
        data["client_secret"] = client.client_secret
    return headers


async def _token_request(
    http: httpx2.AsyncClient, server: str, endpoint: str, client: OAuthClientInformationFull, data: dict[str, str]
) -> OAuthToken:
    headers = _client_auth(client, data)
    what = data["grant_type"].replace("_", " ")
    try:
        response = await http.post(endpoint, data=data, headers=headers)
    except httpx2.HTTPError as exc:
        raise TransientOAuthError(server, f"{what}: {exc!r}") from exc
    body: Any = None
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if response.status_code == 200 and isinstance(body, dict):
        try:
            return OAuthToken.model_validate(body)
        except ValidationError as exc:
            raise TransientOAuthError(server, f"{what}: malformed token response") from exc
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code >= 500 or response.status_code == 429 or not isinstance(error, str):
        raise TransientOAuthError(server, f"{what}: HTTP {response.status_code}")
    if error in _RETRYABLE_ERRORS:
        raise TransientOAuthError(server, f"{what}: {error}")
    description = body.get("error_description") if isinstance(body, dict) else None
    detail = f"{error}: {description}" if description else error
    raise DefinitiveOAuthError(server, error, f"{what} refused ({detail})")


async def exchange_code(
    http: httpx2.AsyncClient,
    server: str,
    *,
    token_endpoint: str,
    client: OAuthClientInformationFull,
    code: str,
    verifier: str,
    redirect_uri: str,
    resource: str | None,
) -> TokenSet:
    """Trade an authorization code and its PKCE verifier for tokens."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    if resource:
        data["resource"] = resource
    return TokenSet.from_response(await _token_request(http, server, token_endpoint, client, data))


async def refresh_tokens(
    http: httpx2.AsyncClient,
    server: str,
    *,
    token_endpoint: str,
    client: OAuthClientInformationFull,
    tokens: TokenSet,
    resource: str | None,
) -> TokenSet:
    """Use the refresh token; the answer may rotate it (the old one is then spent)."""
    assert tokens.refresh_token is not None
    data = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    if resource:
        data["resource"] = resource
    return TokenSet.from_response(await _token_request(http, server, token_endpoint, client, data), tokens)
