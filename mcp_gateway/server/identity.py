"""Pure ASGI middleware that resolves the caller before any MCP handling happens."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_gateway.errors import AuthenticationError, PolicyError
from mcp_gateway.governance.credentials import HeaderSource, credential_from_headers
from mcp_gateway.governance.identity import Identity, ToolFilter
from mcp_gateway.governance.payloads import error_payload, retry_after
from mcp_gateway.server.handlers import CURRENT_IDENTITY, IDENTITY_SCOPE_KEY

__all__ = [
    "Authenticator",
    "Challenge",
    "CredentialReader",
    "GroupScope",
    "IdentityMiddleware",
    "not_started",
    "send_policy_error",
]

Authenticator = Callable[[str | None], Identity]
"""Maps a presented credential (or None) to an Identity; raises `PolicyError` to refuse."""

CredentialReader = Callable[[HeaderSource], str | None]
"""Reads the credential of a request from its headers; raises `PolicyError` to refuse."""

Challenge = Callable[[Scope, PolicyError], bytes]
"""The `WWW-Authenticate` value of a 401 for this request (OAuth points it at its metadata)."""


def not_started(credential: str | None) -> Identity:
    """The authenticator before the lifespan has built governance: refuse everything."""
    raise AuthenticationError("the gateway is starting; try again in a moment")


class IdentityMiddleware:
    """Refuses unauthenticated requests with a JSON body; puts the `Identity` on the scope."""

    def __init__(
        self,
        app: ASGIApp,
        authenticate: Callable[[], Authenticator],
        *,
        read_credential: CredentialReader = credential_from_headers,
        challenge: Challenge | None = None,
    ) -> None:
        self.app = app
        # A getter, not the authenticator itself, so a reload swaps it without rebuilding routes.
        self._authenticate = authenticate
        self._read_credential = read_credential
        self._challenge = challenge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            identity = self._authenticate()(self._read_credential(scope.get("headers", ())))
        except PolicyError as exc:
            challenge = self._challenge(scope, exc) if self._challenge is not None and exc.status == 401 else None
            await send_policy_error(send, exc, challenge)
            return
        scope[IDENTITY_SCOPE_KEY] = identity
        token = CURRENT_IDENTITY.set(identity)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT_IDENTITY.reset(token)


class GroupScope:
    """`/mcp/<group>`: narrows the caller's view to one tool group (within what it may see)."""

    def __init__(self, app: ASGIApp, group_filter: Callable[[Identity, str], ToolFilter]) -> None:
        self.app = app
        self._group_filter = group_filter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        identity = scope.get(IDENTITY_SCOPE_KEY)
        group = scope.get("path_params", {}).get("group", "")
        if isinstance(identity, Identity):
            narrowed = self._group_filter(identity, group)
            scoped = dataclasses.replace(
                identity,
                key_name=f"{identity.key_name}@{group}",  # its own cache slot for views
                allows=lambda server, tool: narrowed(server, tool) and identity.allows(server, tool),
            )
            scope[IDENTITY_SCOPE_KEY] = scoped
            CURRENT_IDENTITY.set(scoped)  # IdentityMiddleware, outside us, resets it afterwards
        await self.app(scope, receive, send)


async def send_policy_error(send: Send, exc: PolicyError, challenge: bytes | None = None) -> None:
    """Answer with the policy error's status and `{"error": {...}}` body (shared with the LLM proxy).

    `challenge` replaces the default `WWW-Authenticate` value of a 401.
    """
    body = json.dumps(error_payload(exc), default=str).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", challenge or b'Bearer realm="mcp-gateway"'))
    if (seconds := retry_after(exc)) is not None:
        headers.append((b"retry-after", str(seconds).encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
