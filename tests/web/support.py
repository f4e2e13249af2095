"""A gateway with held-call policies, a waiter for held calls, and a logged-in httpx2 browser.

Shared by the HTTP-level tests and the headless-browser test of the web pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2

from tests.core.harness import RunningGateway, running_gateway
from tests.fixtures.approvals import Held

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
CODED = {**DEMO, "code_mode": True}
ADMIN = "web-admin-key"
DEV_KEY = "dev-secret-key"
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


@asynccontextmanager
async def web_gateway(**overrides: Any) -> AsyncIterator[tuple[RunningGateway, Held]]:
    """A gateway over the demo server (direct and Code Mode) with the approval policies above."""
    async with running_gateway({"demo": DEMO, "coded": CODED}, **{**CONFIG, **overrides}) as gw:
        yield gw, Held(gw)




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
