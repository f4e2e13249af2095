"""Fixtures for the upstream OAuth tests: a gateway on loopback with a data dir of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn

from mcp_gateway.app import GatewayState, create_app
from mcp_gateway.config import parse_config
from mcp_gateway.upstream.connection import UpstreamState
from tests.fixtures.processes import listening_socket

KEY = "test-client-key"
ADMIN_KEY = "test-admin-key"


@dataclass
class Gateway:
    """A gateway served by uvicorn inside the test's event loop."""

    url: str
    state: GatewayState

    @property
    def headers(self) -> dict[str, str]:
        """The admin credential."""
        return {"Authorization": f"Bearer {ADMIN_KEY}"}

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        """Call the admin API with the admin key."""
        async with httpx2.AsyncClient(timeout=30.0) as http:
            return await http.request(method, self.url + path, headers=self.headers, **kwargs)

    async def wait_state(self, server: str, *states: UpstreamState, within: float = 20) -> UpstreamState:
        """Wait (bounded) until the upstream `server` is in one of `states`."""
        with anyio.fail_after(within):
            return await self.state.upstreams[server].wait_for_state(*states)


def oauth_server(url: str, **auth: Any) -> dict[str, Any]:
    """Config of an HTTP upstream with `auth: {type: oauth}`."""
    return {"transport": "http", "url": url, "auth": {"type": "oauth", **auth}, "health": {"interval_s": 60}}


@asynccontextmanager
async def running_gateway(servers: Mapping[str, Any], data_dir: Path | None) -> AsyncIterator[Gateway]:
    """Start a gateway over `servers` with `data_dir`; wait until each upstream made its first attempt."""
    raw = {"gateway": {"api_key": KEY}, "admin_key": ADMIN_KEY, "servers": dict(servers)}
    app = create_app(parse_config(raw, "test-config"), data_dir=data_dir)
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    )
    state: GatewayState = app.state.gateway
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            try:
                with anyio.fail_after(30):
                    for upstream in state.upstreams.values():
                        await upstream.ready.wait()
                yield Gateway(url=f"http://127.0.0.1:{port}", state=state)
            finally:
                server.should_exit = True
    finally:
        sock.close()
