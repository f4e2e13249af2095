"""`mcp-gateway auth login/status` against a running gateway, and static bearer tokens upstream."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import uvicorn
from anyio.streams.text import TextReceiveStream
from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import StaticTokenVerifier

from mcp_gateway.upstream.connection import UpstreamState
from tests.fixtures.processes import listening_socket
from tests.oauth_upstream.conftest import ADMIN_KEY, oauth_server, running_gateway
from tests.oauth_upstream.servers import browser_login, protected_server
from tests.oauth_upstream.test_login_flow import call_tool

pytestmark = pytest.mark.anyio


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcp_gateway.cli", *args]


async def test_cli_login_prints_the_url_waits_and_exits_0(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        command = _cli("auth", "login", "secured", "--gateway", gw.url, "--admin-key", ADMIN_KEY, "--no-browser")
        async with await anyio.open_process(command) as process:
            assert process.stdout is not None
            output = ""
            with anyio.fail_after(30):
                async for chunk in TextReceiveStream(process.stdout):
                    output += chunk
                    if "Waiting for the login" in output:
                        break
            url = next(line.strip() for line in output.splitlines() if line.strip().startswith("http"))
            page = await browser_login(url)
            assert page.status_code == 200
            with anyio.fail_after(30):
                async for chunk in TextReceiveStream(process.stdout):
                    output += chunk
                code = await process.wait()
        assert code == 0, output
        assert "Logged in: the gateway holds a token for 'secured'" in output
        await gw.wait_state("secured", UpstreamState.READY)

        status = await anyio.run_process(_cli("auth", "status", "--gateway", gw.url, "--admin-key", ADMIN_KEY))
        lines = status.stdout.decode().splitlines()
        assert lines[0].split()[:3] == ["SERVER", "AUTH", "STATE"]
        assert lines[1].split()[:3] == ["secured", "oauth", "authorized"]


async def test_cli_login_fails_clearly(tmp_path: Path) -> None:
    async with protected_server() as upstream, running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw:
        base = ["--gateway", gw.url, "--admin-key", ADMIN_KEY, "--no-browser"]
        unknown = await anyio.run_process(_cli("auth", "login", "nope", *base), check=False)
        assert unknown.returncode == 1
        assert b"HTTP 404" in unknown.stderr and b"nope" in unknown.stderr
        waited = await anyio.run_process(_cli("auth", "login", "secured", "--timeout", "1", *base), check=False)
        assert waited.returncode == 1
        assert b"Timed out after 1 s" in waited.stderr
        wrong_key = ["--gateway", gw.url, "--admin-key", "wrong", "--no-browser"]
        refused = await anyio.run_process(_cli("auth", "login", "secured", *wrong_key), check=False)
        assert refused.returncode == 1 and b"HTTP 401" in refused.stderr


@asynccontextmanager
async def _bearer_server(token: str) -> AsyncIterator[str]:
    mcp = FastMCP("static", auth=StaticTokenVerifier(tokens={token: {"client_id": "gw", "scopes": []}}))

    @mcp.tool
    def ping() -> str:
        """Answer pong."""
        return "pong"

    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(mcp.http_app(path="/mcp"), log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    )
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            try:
                yield f"http://127.0.0.1:{port}/mcp"
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def test_static_bearer_token(tmp_path: Path) -> None:
    async with _bearer_server("s3cret-token") as url:
        servers = {
            "good": {"transport": "http", "url": url, "auth": {"type": "bearer", "token": "s3cret-token"}},
            "bad": {"transport": "http", "url": url, "auth": {"type": "bearer", "token": "wrong"}},
        }
        async with running_gateway(servers, tmp_path) as gw:
            await gw.wait_state("good", UpstreamState.READY)
            assert await call_tool(gw, "good__ping", {}) == "pong"
            assert gw.state.upstreams["bad"].state is UpstreamState.RECONNECTING
            assert "401" in (gw.state.upstreams["bad"].status().last_error or "")
            listed = {s["name"]: s for s in (await gw.api("GET", "/api/servers")).json()["servers"]}
            assert listed["good"]["auth"] == {"type": "bearer", "state": "configured", "last_error": None}
            assert listed["bad"]["auth"]["state"] == "refused"
