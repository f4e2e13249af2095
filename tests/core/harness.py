"""Run the real gateway app inside the test's event loop, and connect real MCP clients to it.

The gateway is served by uvicorn on a socket bound before the server starts, so clients can
connect at once (the kernel queues them); readiness is the upstreams' own `ready` events.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.session import MessageHandlerFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_gateway.app import GatewayState, create_app
from mcp_gateway.config import parse_config
from tests.fixtures.processes import listening_socket

KEY = "test-key"
DownstreamMode = Literal["http-auto", "http-legacy", "sse"]
DOWNSTREAM_MODES: tuple[DownstreamMode, ...] = ("http-auto", "http-legacy", "sse")


@dataclass
class RunningGateway:
    """A gateway serving on loopback inside the current event loop."""

    url: str
    state: GatewayState
    key: str = KEY

    @property
    def headers(self) -> dict[str, str]:
        """Credential headers for this gateway."""
        return {"Authorization": f"Bearer {self.key}"}


def python_server(*args: str) -> dict[str, Any]:
    """Config of a stdio upstream running a Python module with this interpreter."""
    return {"transport": "stdio", "command": sys.executable, "args": ["-m", *args]}


@asynccontextmanager
async def running_gateway(servers: Mapping[str, Any], **extra: Any) -> AsyncIterator[RunningGateway]:
    """Start a gateway over `servers`; wait until each upstream finished its first attempt."""
    config_path = extra.pop("config_path", None)
    data_dir = extra.pop("data_dir", None)
    raw: dict[str, Any] = {"gateway": {"api_key": KEY, **extra.pop("gateway", {})}, "servers": dict(servers)}
    raw.update(extra)
    app = create_app(parse_config(raw, "test-config"), config_path=config_path, data_dir=data_dir)
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))
    state: GatewayState = app.state.gateway
    with sock:  # closed however the test ends
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            with anyio.fail_after(30):
                for upstream in state.upstreams.values():
                    await upstream.ready.wait()
            try:
                yield RunningGateway(url=f"http://127.0.0.1:{port}", state=state)
            finally:
                server.should_exit = True


@asynccontextmanager
async def connect(
    gateway: RunningGateway,
    mode: DownstreamMode = "http-auto",
    headers: Mapping[str, str] | None = None,
    message_handler: MessageHandlerFnT | None = None,
    path: str = "/mcp",
) -> AsyncIterator[Client]:
    """An entered `mcp.Client` talking to `gateway` the way `mode` says (HTTP modes at `path`)."""
    hdrs = dict(gateway.headers if headers is None else headers)
    if mode == "sse":
        transport = sse_client(f"{gateway.url}/sse", headers=hdrs)
        async with Client(transport, mode="legacy", message_handler=message_handler) as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(headers=hdrs, timeout=httpx2.Timeout(30.0)) as http,
        Client(
            streamable_http_client(f"{gateway.url}{path}", http_client=http),
            mode="auto" if mode == "http-auto" else "legacy",
            message_handler=message_handler,
        ) as client,
    ):
        yield client
