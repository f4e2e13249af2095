"""Build an `mcp.Client` for one configured upstream, whatever its transport.

Each transport maps onto the SDK: stdio through `stdio_client` (own session and process group;
the SDK kills the whole tree on close), streamable HTTP through `streamable_http_client` with our
own `httpx2.AsyncClient` (for headers), legacy SSE through `sse_client`, and in-process servers
through the SDK's in-memory path.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.session import MessageHandlerFnT
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer

from mcp_gateway.config.models import HttpServer, InProcessServer, ServerConfig, SseServer, StdioServer
from mcp_gateway.errors import ConfigError
from mcp_gateway.upstream.oauth.credentials import HttpxCredentialsAuth, UpstreamCredentials
from mcp_gateway.upstream.stdio_lane import StdioLane, lane_stdio_client

__all__ = ["build_client", "load_inprocess_target", "resolve_command"]


def resolve_command(command: str) -> str:
    """Find a bare command on PATH, else beside the running Python (a venv's `bin/`).

    Servers installed into the gateway's own virtualenv (`pip install mcp-server-time`) then work
    even when that venv is not on PATH, as when the gateway runs as `.venv/bin/mcp-gateway`.
    """
    if os.sep in command:
        return command
    return shutil.which(command) or shutil.which(command, path=str(Path(sys.executable).parent)) or command


def load_inprocess_target(target: str) -> Server[Any] | MCPServer:
    """Import `module:attribute` and return an MCP server object the SDK can serve in-process.

    Accepts the SDK's low-level `Server`, its `MCPServer`, and objects that wrap a low-level server
    in `_mcp_server` (FastMCP).
    """
    module_name, _, attr_path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError("inprocess", [("target", f"cannot import {target!r}: {exc}")]) from exc
    if isinstance(obj, Server | MCPServer):
        return obj
    inner = getattr(obj, "_mcp_server", None)
    if isinstance(inner, Server):
        return inner
    raise ConfigError("inprocess", [("target", f"{target!r} is a {type(obj).__name__}, not an MCP server")])


@asynccontextmanager
async def _http_transport(cfg: HttpServer, timeout_s: float, auth: httpx2.Auth | None) -> AsyncIterator[Any]:
    timeout = httpx2.Timeout(timeout_s, read=max(timeout_s, 300.0))
    async with (
        httpx2.AsyncClient(headers=cfg.headers, timeout=timeout, follow_redirects=False, auth=auth) as http,
        streamable_http_client(cfg.url, http_client=http) as streams,
    ):
        yield streams


def build_client(
    cfg: ServerConfig,
    *,
    message_handler: MessageHandlerFnT | None,
    errlog: TextIO | None,
    inprocess: Server[Any] | MCPServer | None = None,
    credentials: UpstreamCredentials | None = None,
    stdio_lane: StdioLane | None = None,
) -> Client:
    """An un-entered `Client` for `cfg`; entering it connects and negotiates the protocol.

    `credentials` (from `auth:`) authorize every HTTP request, with one refresh and retry on a 401.
    A stdio server with a `stdio_lane` runs on the lane's transport (the lane then calls tools
    directly over the same process).
    """
    auth = HttpxCredentialsAuth(credentials) if credentials is not None else None
    common: dict[str, Any] = {
        "message_handler": message_handler,
        "read_timeout_seconds": cfg.timeout_s,
        "cache": None,  # the catalog is our cache; a second one would serve stale listings
    }
    if isinstance(cfg, StdioServer):
        params = StdioServerParameters(
            command=resolve_command(cfg.command), args=cfg.args, env=cfg.env or None, cwd=cfg.cwd
        )
        transport = (
            lane_stdio_client(params, stdio_lane, errlog or sys.stderr)
            if stdio_lane is not None
            else stdio_client(params, errlog=errlog or sys.stderr)
        )
        return Client(transport, mode="auto", **common)
    if isinstance(cfg, HttpServer):
        return Client(_http_transport(cfg, cfg.connect_timeout_s, auth), mode=cfg.protocol, **common)
    if isinstance(cfg, SseServer):
        transport = sse_client(cfg.url, headers=cfg.headers, timeout=cfg.connect_timeout_s, auth=auth)
        return Client(transport, mode="legacy", **common)
    assert isinstance(cfg, InProcessServer)
    server = inprocess if inprocess is not None else load_inprocess_target(cfg.target)
    return Client(server, mode="auto", **common)
