"""Assembly: build every part from the config and wire them; nothing else creates long-lived state.

`create_app(config)` returns a Starlette app whose lifespan starts the upstream supervisors and the
MCP session manager, and stops them (and every child process) on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from mcp_gateway.admin.servers import server_status_routes
from mcp_gateway.catalog.catalog import Catalog
from mcp_gateway.config.models import GatewayConfig
from mcp_gateway.server.handlers import CodeModeHandler, build_mcp_server
from mcp_gateway.server.identity import Authenticator, IdentityMiddleware, SingleKeyAuthenticator
from mcp_gateway.server.invoker import GatewayInvoker
from mcp_gateway.server.notifier import ListChangedNotifier
from mcp_gateway.server.transports import SseEndpoints, build_session_manager
from mcp_gateway.server.views import ViewCache
from mcp_gateway.upstream.connection import Upstream
from mcp_gateway.upstream.listing import Listing

__all__ = ["GatewayState", "create_app"]

logger = logging.getLogger("mcp_gateway")


def _version() -> str:
    try:
        return version("mcp-gateway")
    except PackageNotFoundError:
        return "0.0.0"


@dataclass
class GatewayState:
    """The parts of one running gateway, for tests and the admin surface."""

    config: GatewayConfig
    catalog: Catalog
    upstreams: dict[str, Upstream]
    notifier: ListChangedNotifier
    authenticator: Authenticator
    codemode: CodeModeHandler | None = None
    started: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _code_mode_for(config: GatewayConfig) -> dict[str, bool]:
    default = config.code_mode.enabled
    return {name: (s.code_mode if s.code_mode is not None else default) for name, s in config.servers.items()}


def create_app(config: GatewayConfig) -> Starlette:
    """Build the gateway's ASGI app from a validated config."""
    from mcp.server.subscriptions import InMemorySubscriptionBus

    enabled = {name: s for name, s in config.servers.items() if s.enabled}
    catalog = Catalog(namespaced={name: s.namespace for name, s in enabled.items()})
    notifier = ListChangedNotifier(InMemorySubscriptionBus())
    changed = anyio.Event()
    changed_box = [changed]  # replaced after each fan-out; a list so the closure sees the new Event

    def on_listing(server: str, listing: Listing) -> None:
        catalog.update(server, listing)

    catalog.subscribe(lambda _snapshot: changed_box[0].set())
    upstreams = {name: Upstream(name, cfg, on_listing=on_listing) for name, cfg in enabled.items()}
    if config.gateway.api_key is None:
        logger.warning("gateway.api_key is not set: every request is accepted (development only)")
    state = GatewayState(
        config=config,
        catalog=catalog,
        upstreams=upstreams,
        notifier=notifier,
        authenticator=SingleKeyAuthenticator(config.gateway.api_key),
    )
    code_mode = _code_mode_for(config)
    views = ViewCache(
        code_mode_for=lambda server: code_mode.get(server, False),
        meta_tools=lambda: state.codemode.meta_tools() if state.codemode is not None else [],
    )
    invoker = GatewayInvoker(upstreams)
    server, keep_alive = build_mcp_server(
        name="mcp-gateway",
        version=_version(),
        catalog=catalog,
        views=views,
        invoker=invoker,
        upstreams=upstreams,
        codemode=None,
        notifier=notifier,
    )
    state.extra["keep_alive"] = keep_alive
    session_manager = build_session_manager(server, config.gateway)
    sse = SseEndpoints(server, config.gateway)

    async def fan_out_changes() -> None:
        while True:
            await changed_box[0].wait()
            changed_box[0] = anyio.Event()
            await notifier.notify_all()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            for upstream in upstreams.values():
                tg.start_soon(upstream.run, name=f"upstream-{upstream.name}")
            tg.start_soon(fan_out_changes, name="list-changed")
            async with session_manager.run():
                state.started = True
                logger.info("gateway ready to accept connections; %d upstream(s) starting", len(upstreams))
                try:
                    yield
                finally:
                    state.started = False
            tg.cancel_scope.cancel()

    def guarded(inner: ASGIApp) -> ASGIApp:
        return IdentityMiddleware(inner, lambda: state.authenticator)

    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    routes: list[Route | Mount] = [
        *server_status_routes(upstreams, is_started=lambda: state.started),
        Route("/mcp", guarded(StreamableHTTPASGIApp(session_manager)), methods=["GET", "POST", "DELETE"]),
        Route("/sse", guarded(sse.connect), methods=["GET"]),
        Mount("/messages", app=guarded(sse.post_message)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = state
    return app
