"""The downstream endpoints: Streamable HTTP on `/mcp` and legacy HTTP+SSE on `/sse`.

Both come from the MCP SDK, which implements the spec's session handling (POST answered with JSON
or an SSE stream, GET for server-initiated messages, DELETE ending a session; and the stateless
2026-07-28 envelope), Host/Origin validation and the request-size limit.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from mcp_gateway.config.models import GatewaySettings

__all__ = ["SseEndpoints", "build_session_manager", "security_settings"]

logger = logging.getLogger("mcp_gateway.server")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_settings(settings: GatewaySettings) -> TransportSecuritySettings:
    """Host/Origin checks against DNS rebinding: loopback names by default, or the configured lists."""
    hosts = settings.allowed_hosts
    origins = settings.allowed_origins
    if hosts is None and _is_loopback(settings.host):
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    if origins is None and _is_loopback(settings.host):
        origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if hosts is None:
        logger.warning(
            "listening on %s without gateway.allowed_hosts: Host header checks (DNS rebinding protection) "
            "are off; set allowed_hosts to the names clients use",
            settings.host,
        )
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins or []
    )


def build_session_manager(server: Server[Any], settings: GatewaySettings) -> StreamableHTTPSessionManager:
    """The SDK's Streamable HTTP manager, session-based for handshake clients, stateless for 2026 ones."""
    return StreamableHTTPSessionManager(
        app=server,
        json_response=False,
        stateless=False,
        security_settings=security_settings(settings),
        max_request_body_size=settings.max_request_bytes,
        session_idle_timeout=settings.session_idle_timeout_s,
    )


class SseEndpoints:
    """Legacy HTTP+SSE: `GET /sse` opens the stream, `POST /messages/?session_id=...` carries requests."""

    def __init__(self, server: Server[Any], settings: GatewaySettings) -> None:
        self._server = server
        self.transport = SseServerTransport(
            "/messages/",
            security_settings=security_settings(settings),
            max_request_body_size=settings.max_request_bytes,
        )

    async def connect(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI app for `GET /sse`."""
        async with self.transport.connect_sse(scope, receive, send) as (read_stream, write_stream):
            await self._server.run(read_stream, write_stream, self._server.create_initialization_options())

    async def post_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI app for `POST /messages/`."""
        await self.transport.handle_post_message(scope, receive, send)
