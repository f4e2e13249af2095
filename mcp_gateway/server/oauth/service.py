"""`OAuthServer`: the one object `app.py` holds when `gateway.oauth.enabled` is true."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from starlette.routing import Route
from starlette.types import ASGIApp

from mcp_gateway.config.oauth_server import OAuthServerSettings
from mcp_gateway.server.identity import Authenticator, IdentityMiddleware
from mcp_gateway.server.oauth.guard import OAuthGuard
from mcp_gateway.server.oauth.provider import GatewayAuthProvider, KeyDirectory
from mcp_gateway.server.oauth.routes import authorization_server_routes
from mcp_gateway.server.oauth.sqlite_store import SQLiteOAuthStore
from mcp_gateway.server.oauth.store import MemoryOAuthStore, OAuthStore

__all__ = ["STORE_FILE", "OAuthServer", "build_oauth_server"]

STORE_FILE = "oauth_server.db"


class OAuthServer:
    """The gateway as OAuth 2.1 authorization server for its own downstream endpoints.

    In `create_app`: `routes()` and `protect(app, authenticator_getter)` in place of a bare
    `IdentityMiddleware`. In the lifespan: `await start(data_dir, governance, stack)`, then
    `authenticator(governance.authenticate)` as the state's authenticator and
    `run_maintenance()` in the task group.
    """

    def __init__(self, settings: OAuthServerSettings, *, clock: Callable[[], float] | None = None) -> None:
        self.provider = GatewayAuthProvider(settings) if clock is None else GatewayAuthProvider(settings, clock=clock)
        self.guard = OAuthGuard(self.provider)

    def routes(self) -> list[Route]:
        """Metadata, /authorize, the consent page, /token, /register and /revoke."""
        return authorization_server_routes(self.provider)

    def protect(self, app: ASGIApp, authenticate: Callable[[], Authenticator]) -> ASGIApp:
        """`IdentityMiddleware` that answers 401 with RFC 9728 challenges and spots mixed credentials."""
        return IdentityMiddleware(
            app, authenticate, read_credential=self.guard.read_credential, challenge=self.guard.challenge
        )

    async def start(self, data_dir: Path | None, directory: KeyDirectory, stack: AsyncExitStack) -> None:
        """Open the store (`<data_dir>/oauth_server.db`, else memory) and load live tokens."""
        store: OAuthStore
        if data_dir is not None:
            store = await SQLiteOAuthStore.open(data_dir / STORE_FILE)
        else:
            store = MemoryOAuthStore()
        stack.push_async_callback(store.aclose)
        await self.provider.start(store, directory)

    def authenticator(self, inner: Authenticator) -> Authenticator:
        """`inner` (governance) for virtual keys; the token index for gateway-issued access tokens."""
        return self.guard.authenticator(inner)

    async def run_maintenance(self) -> None:
        """Purge expired codes and tokens every few minutes, forever."""
        await self.provider.run_maintenance()


def build_oauth_server(settings: OAuthServerSettings) -> OAuthServer | None:
    """An `OAuthServer` when `gateway.oauth.enabled`, else None (key auth only)."""
    return OAuthServer(settings) if settings.enabled else None
