"""How `/mcp`, `/mcp/<group>` and `/sse` accept OAuth access tokens next to virtual keys.

Three small hooks for `IdentityMiddleware`:
- `authenticator(inner)`: credentials with the access-token prefix go to the token index, every
  other credential to governance as before (the virtual-key path is unchanged);
- `read_credential(headers)`: a request carrying both an access token and a virtual key is a
  400 that says to send one (a 401 would send an OAuth client into a new login);
- `challenge(scope, exc)`: the `WWW-Authenticate` of a 401, pointing at RFC 9728 metadata.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from mcp_gateway.errors import AuthenticationError, PolicyError
from mcp_gateway.governance.credentials import HeaderSource, credential_from_headers
from mcp_gateway.governance.identity import Identity
from mcp_gateway.server.identity import Authenticator
from mcp_gateway.server.oauth.provider import GatewayAuthProvider
from mcp_gateway.server.oauth.records import ACCESS_TOKEN_PREFIX, is_access_token
from mcp_gateway.server.oauth.routes import resource_metadata_path

__all__ = ["CredentialConflict", "OAuthGuard"]


class CredentialConflict(PolicyError):
    """The request carries an OAuth access token and a virtual key: which one should we charge?"""

    status = 400


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class OAuthGuard:
    """The OAuth side of request authentication, for `IdentityMiddleware`."""

    def __init__(self, provider: GatewayAuthProvider) -> None:
        self._provider = provider
        self._issuer = provider.settings.issuer_url

    def authenticator(self, inner: Authenticator) -> Authenticator:
        """Wrap governance's authenticator: access tokens resolve to the identity of their key."""
        identity_for_token = self._provider.identity_for_token

        def authenticate(credential: str | None) -> Identity:
            if credential is not None and is_access_token(credential):
                return identity_for_token(credential)
            return inner(credential)

        return authenticate

    def read_credential(self, headers: HeaderSource) -> str | None:
        """`credential_from_headers`, with a clear 400 when a token and a virtual key meet."""
        try:
            return credential_from_headers(headers)
        except AuthenticationError:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            names = {
                _text(name).lower()
                for name, value in pairs
                if _text(name).lower() == "x-api-key"
                or (_text(name).lower() == "authorization" and ACCESS_TOKEN_PREFIX in _text(value))
            }
            if names == {"x-api-key", "authorization"}:
                raise CredentialConflict(
                    "the request carries both an OAuth access token (Authorization: Bearer) and a virtual key "
                    "(x-api-key); send only one of them"
                ) from None
            raise

    def challenge(self, scope: Scope, exc: PolicyError) -> bytes:
        """`Bearer resource_metadata="..."` (RFC 9728 section 5.1), with `error` for a bad token."""
        base = self._issuer or self._origin(scope)
        value = f'Bearer resource_metadata="{base}{resource_metadata_path(scope.get("path", "/mcp"))}"'
        if exc.details.get("oauth_error") == "invalid_token":
            value += ', error="invalid_token"'
        return value.encode("latin-1")

    @staticmethod
    def _origin(scope: Scope) -> str:
        host = next((_text(v) for k, v in scope.get("headers", ()) if _text(k).lower() == "host"), None)
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        # `root_path` grows inside a Mount (`/messages`); `app_root_path` is the app's own prefix.
        prefix = scope.get("app_root_path", scope.get("root_path", ""))
        return f"{scope.get('scheme', 'http')}://{host}{prefix}"
