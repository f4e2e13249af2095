"""`GatewayApp` hands `POST /mcp` to its hot-path app and everything else to Starlette's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mcp_gateway.app import GatewayApp


@asynccontextmanager
async def _no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield


async def _hot(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("hot path")(scope, receive, send)


async def _routed(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"routed {request.method} {request.url.path}")


APP = GatewayApp(
    routes=[
        Route("/mcp", _routed, methods=["GET", "POST", "DELETE"]),
        Route("/mcp/{group}", _routed, methods=["POST"]),
    ],
    lifespan=_no_lifespan,
    mcp_post=_hot,
)


async def _request(method: str, path: str, root_path: str = "") -> tuple[int, str]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await APP(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]).decode()


async def test_post_mcp_takes_the_hot_path() -> None:
    assert await _request("POST", "/mcp") == (200, "hot path")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/mcp", (200, "routed GET /mcp")),
        ("DELETE", "/mcp", (200, "routed DELETE /mcp")),
        ("POST", "/mcp/team", (200, "routed POST /mcp/team")),
        ("PUT", "/mcp", (405, "Method Not Allowed")),
    ],
)
async def test_everything_else_goes_through_the_routes(method: str, path: str, expected: tuple[int, str]) -> None:
    assert await _request(method, path) == expected


async def test_under_a_root_path_post_mcp_is_routed_as_before() -> None:
    assert await _request("POST", "/mcp", root_path="/gateway") == (200, "routed POST /gateway/mcp")
