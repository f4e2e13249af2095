"""Client authentication at `/token` and `/revoke` against hashed client secrets.

The SDK's `ClientAuthenticator` compares the presented secret with a plaintext secret on the
client record; we keep only a hash, so this subclass reads the secret the same ways
(`client_secret_post`, `client_secret_basic`, none for public clients) and compares hashes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import TYPE_CHECKING
from urllib.parse import unquote

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request

from mcp_gateway.server.oauth.records import digest

if TYPE_CHECKING:
    from mcp_gateway.server.oauth.provider import GatewayAuthProvider

__all__ = ["HashedSecretAuthenticator"]


def _basic_credentials(header: str, client_id: str) -> str:
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode("utf-8")
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise AuthenticationError("Invalid Basic authentication header") from exc
    basic_id, sep, secret = decoded.partition(":")
    if not sep:
        raise AuthenticationError("Invalid Basic authentication header")
    if unquote(basic_id) != client_id:
        raise AuthenticationError("Client ID mismatch in Basic auth")
    return unquote(secret)


class HashedSecretAuthenticator(ClientAuthenticator):
    """`ClientAuthenticator` for clients whose secrets are stored as SHA-256 digests."""

    def __init__(self, provider: GatewayAuthProvider) -> None:
        super().__init__(provider)
        self._gateway_provider = provider

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        """The registered client of the request, or `AuthenticationError` (answered with 401)."""
        form = await request.form()
        client_id = form.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthenticationError("Missing client_id")
        client = await self._gateway_provider.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        method = client.token_endpoint_auth_method
        if method == "none":
            return client
        presented: str | None = None
        if method == "client_secret_basic":
            header = request.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                raise AuthenticationError("Missing or invalid Basic authentication in Authorization header")
            presented = _basic_credentials(header, client_id)
        elif method == "client_secret_post":
            value = form.get("client_secret")
            presented = value if isinstance(value, str) else None
        else:
            raise AuthenticationError(f"Unsupported auth method: {method}")
        stored = await self._gateway_provider.client_secret_hash(client_id)
        if stored is None or not presented:
            raise AuthenticationError("Client secret is required")
        if not hmac.compare_digest(digest(presented).encode(), stored.encode()):
            raise AuthenticationError("Invalid client_secret")
        if client.client_secret_expires_at and client.client_secret_expires_at < int(time.time()):
            raise AuthenticationError("Client secret has expired")
        return client.model_copy(update={"client_secret": presented})
