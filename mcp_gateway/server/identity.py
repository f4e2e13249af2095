"""Pure ASGI middleware that resolves the caller before any MCP handling happens."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_gateway.errors import AuthenticationError, PolicyError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.server.handlers import IDENTITY_SCOPE_KEY

__all__ = ["Authenticator", "IdentityMiddleware", "SingleKeyAuthenticator", "credential_from_scope"]

Authenticator = Callable[[str | None], Identity]
"""Maps a presented credential (or None) to an Identity; raises `PolicyError` to refuse."""


def credential_from_scope(scope: Scope) -> str | None:
    """The key from `Authorization: Bearer <key>` or `x-api-key`; two different ones are refused."""
    bearer = api_key = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer = token.strip()
        elif name == b"x-api-key":
            api_key = value.decode("latin-1").strip() or None
    if bearer and api_key and not hmac.compare_digest(bearer, api_key):
        raise AuthenticationError(
            "the request carries two different credentials (Authorization and x-api-key)"
        )
    return bearer or api_key


class SingleKeyAuthenticator:
    """Single-key mode: one configured key grants every tool (until governance is configured)."""

    def __init__(self, key: str | None) -> None:
        self._key = key
        self._identity = Identity(key_name="default")

    def __call__(self, credential: str | None) -> Identity:
        if self._key is None:
            return self._identity  # no key configured: open (loopback development only; warned at start)
        if credential is None:
            raise AuthenticationError("missing credential: send 'Authorization: Bearer <key>' or 'x-api-key'")
        if not hmac.compare_digest(credential.encode(), self._key.encode()):
            raise AuthenticationError("invalid API key")
        return self._identity


class IdentityMiddleware:
    """Refuses unauthenticated requests with a JSON body; puts the `Identity` on the scope."""

    def __init__(self, app: ASGIApp, authenticate: Callable[[], Authenticator]) -> None:
        self.app = app
        # A getter, not the authenticator itself, so a config reload swaps it without rebuilding apps.
        self._authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            identity = self._authenticate()(credential_from_scope(scope))
        except PolicyError as exc:
            await _refuse(send, exc)
            return
        scope[IDENTITY_SCOPE_KEY] = identity
        await self.app(scope, receive, send)


async def _refuse(send: Send, exc: PolicyError) -> None:
    body = json.dumps(
        {"error": {"type": type(exc).__name__, "message": str(exc), **exc.details}}, default=str
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="mcp-gateway"'))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
