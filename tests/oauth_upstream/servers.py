"""A real OAuth-protected MCP server on loopback for the upstream OAuth tests.

fastmcp's `InMemoryOAuthProvider` is a complete authorization server (metadata, dynamic
registration, PKCE, refresh with rotation, revocation) in front of a FastMCP server; both run in
one uvicorn server inside the test's event loop. `ProtectedServer.token_faults` makes the token
endpoint answer 503 (a transient failure), and `stop()`/`start()` take the whole server down and
bring it back on the same port with the same provider state.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import httpx2
import uvicorn
from anyio.abc import TaskGroup
from fastmcp import FastMCP
from fastmcp.server.auth.auth import ClientRegistrationOptions, RevocationOptions
from fastmcp.server.auth.providers.in_memory import InMemoryOAuthProvider
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.fixtures.processes import listening_socket

__all__ = ["ProtectedServer", "browser_login", "protected_server"]


@dataclass
class ProtectedServer:
    """An OAuth-protected FastMCP server; `url` is its MCP endpoint (with `/mcp`)."""

    url: str
    base_url: str
    provider: InMemoryOAuthProvider
    port: int
    token_faults: int = 0
    """While positive, the token endpoint answers 503 and counts down."""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _app: ASGIApp | None = None
    _server: uvicorn.Server | None = None
    _stopped: anyio.Event | None = None
    _tg: TaskGroup | None = None

    async def start(self) -> None:
        """Serve on `port` (again)."""
        assert self._tg is not None and self._app is not None
        sock = listening_socket(port=self.port)
        config = uvicorn.Config(
            self._app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        stopped = anyio.Event()
        self._server, self._stopped = server, stopped

        async def serve() -> None:
            try:
                await server.serve([sock])
            finally:
                sock.close()
                stopped.set()

        # The socket is bound and listening: clients may connect at once (the kernel queues them).
        self._tg.start_soon(serve)

    async def stop(self) -> None:
        """Stop serving: connections are refused until `start()`."""
        assert self._server is not None and self._stopped is not None
        self._server.should_exit = True
        with anyio.fail_after(10):
            await self._stopped.wait()

    def live_access_tokens(self) -> set[str]:
        """Access tokens the provider would accept now."""
        return set(self.provider.access_tokens)


class _TokenFaults:
    """ASGI wrapper: records token requests and injects 503s on `/token`."""

    def __init__(self, app: ASGIApp, target: ProtectedServer) -> None:
        self.app = app
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/token":
            chunks: list[bytes] = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            from urllib.parse import parse_qsl

            self.target.token_requests.append(dict(parse_qsl(body.decode())))
            if self.target.token_faults > 0:
                self.target.token_faults -= 1
                await send(
                    {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"unavailable"})
                return
            sent = False

            async def replay() -> dict[str, object]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def protected_server(name: str = "secured", *, sse: bool = False) -> AsyncIterator[ProtectedServer]:
    """Serve an OAuth-protected FastMCP server with `whoami` and `add` tools on a free loopback port.

    `sse` serves the legacy HTTP+SSE transport at `/sse` instead of Streamable HTTP at `/mcp`.
    """
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    provider = InMemoryOAuthProvider(
        base_url=base,
        client_registration_options=ClientRegistrationOptions(enabled=True),
        revocation_options=RevocationOptions(enabled=True),
    )
    mcp = FastMCP(name, auth=provider)

    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @mcp.tool
    def whoami() -> str:
        """Name the server."""
        return name

    path = "/sse" if sse else "/mcp"
    target = ProtectedServer(url=f"{base}{path}", base_url=base, provider=provider, port=port)
    app = mcp.http_app(path=path, transport="sse" if sse else "http")
    target._app = _TokenFaults(app, target)
    async with anyio.create_task_group() as tg:
        target._tg = tg
        await target.start()
        try:
            yield target
        finally:
            if target._server is not None:
                target._server.should_exit = True


async def browser_login(authorization_url: str) -> httpx2.Response:
    """Play the browser: follow the authorization URL (the provider approves at once) to the callback."""
    async with httpx2.AsyncClient(timeout=30.0, follow_redirects=True) as browser:
        return await browser.get(authorization_url)
