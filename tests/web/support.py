"""A gateway with held-call policies, a waiter for held calls, and a logged-in httpx2 browser.

Shared by the HTTP-level tests and the headless-browser test of the web pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import httpx2
import mcp_types as types

from mcp_gateway.approvals import HeldCall
from tests.core.harness import RunningGateway, connect, running_gateway

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
CODED = {**DEMO, "code_mode": True}
ADMIN = "web-admin-key"
CONFIG: dict[str, Any] = {
    "admin_key": ADMIN,
    "tool_groups": {
        "words": {"tools": ["demo.echo", "coded.echo"], "approval": "review", "description": "text tools"},
        "math": {"tools": ["demo.add", "coded.add"]},
        "ops": {"tools": ["demo.count_down"], "approval": "review"},
    },
    "teams": {"backend": {"tool_groups": ["math"], "description": "the backend team"}},
    "virtual_keys": {
        "dev": {"key": "dev-secret-key", "team": "backend", "tool_groups": ["words", "ops"]},
        "lead": {"key": "lead-secret-key", "tool_groups": ["math"], "reviewer_for": ["words"]},
        "plain": {"key": "plain-secret-key", "tool_groups": ["math"]},
    },
    "approvals": {"timeout_s": 60, "progress_interval_s": 5},
}


def auth(key: str) -> dict[str, str]:
    """Bearer headers for `key`."""
    return {"Authorization": f"Bearer {key}"}


class Held:
    """Waits for held calls to appear, through the queue's listener (no polling)."""

    def __init__(self, gw: RunningGateway) -> None:
        assert gw.state.approvals is not None
        self._seen: list[HeldCall] = []
        self._arrived = anyio.Event()
        gw.state.approvals.listeners.append(self._on_change)

    def _on_change(self, held: HeldCall) -> None:
        if held.pending:
            self._seen.append(held)
            self._arrived.set()

    async def next(self) -> HeldCall:
        """The next call that was held."""
        with anyio.fail_after(20):
            while not self._seen:
                self._arrived = anyio.Event()
                await self._arrived.wait()
        return self._seen.pop(0)


@asynccontextmanager
async def web_gateway(**overrides: Any) -> AsyncIterator[tuple[RunningGateway, Held]]:
    """A gateway over the demo server (direct and Code Mode) with the approval policies above."""
    async with running_gateway({"demo": DEMO, "coded": CODED}, **{**CONFIG, **overrides}) as gw:
        yield gw, Held(gw)


def call_in_background(
    gw: RunningGateway, tg: anyio.abc.TaskGroup, name: str, args: dict[str, Any], key: str = "dev-secret-key"
) -> Callable[[], types.CallToolResult]:
    """Start a tool call in its own `mcp` SDK client; returns a getter for its result once `tg` ends."""
    box: list[types.CallToolResult] = []

    async def call() -> None:
        async with connect(gw, headers=auth(key)) as client:
            box.append(await client.call_tool(name, args))

    tg.start_soon(call)
    return lambda: box[0]


def text_of(result: types.CallToolResult) -> str:
    """The text content of a tool result."""
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def hidden_field(html: str, name: str) -> str:
    """The value of the first hidden input `name` in `html`."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no hidden field {name!r} in the page"
    return found.group(1)


async def log_in(http: httpx2.AsyncClient, key: str) -> httpx2.Response:
    """Fill in the login form the way a browser does (its nonce cookie and field); returns the answer."""
    page = await http.get("/ui/login")
    assert page.status_code == 200
    return await http.post("/ui/login", data={"key": key, "login_token": hidden_field(page.text, "login_token")})


@asynccontextmanager
async def browser_session(gw: RunningGateway, key: str) -> AsyncIterator[tuple[httpx2.AsyncClient, str]]:
    """An httpx2 client logged in with `key`, and its CSRF token."""
    async with httpx2.AsyncClient(base_url=gw.url, timeout=20) as http:
        answer = await log_in(http, key)
        assert answer.status_code == 303, answer.text
        page = await http.get("/ui/approvals")
        assert page.status_code == 200
        yield http, hidden_field(page.text, "csrf")
