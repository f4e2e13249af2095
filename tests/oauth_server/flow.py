"""Test helpers: a gateway with OAuth on, a shiftable clock, and the login flow over plain HTTP.

`login()` walks the flow the way a browser and a client would: register (RFC 7591), `GET
/authorize` with PKCE S256, follow to the consent page, `POST` the form with a virtual key
(cookie and CSRF token included), read the code off the redirect, and redeem it at `/token`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2

from tests.core.harness import RunningGateway, running_gateway

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
REDIRECT_URI = "http://127.0.0.1:9/callback"
GOVERNANCE: dict[str, Any] = {
    "admin_key": "admin-secret",
    "tool_groups": {"math": {"tools": ["demo.add"]}, "words": {"tools": ["demo.echo"]}},
    "virtual_keys": {
        "alice": {"key": "alice-key", "tool_groups": ["math"]},
        "bob": {"key": "bob-key", "tool_groups": ["words"]},
    },
}


@dataclass
class Clock:
    """`time.time()` plus an offset the test moves forward (no sleeping)."""

    offset: float = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset


@dataclass
class Tokens:
    """What `/token` answered, plus the client that asked."""

    access: str
    refresh: str
    expires_in: int
    client_id: str
    client_secret: str | None
    raw: dict[str, Any] = field(default_factory=dict)
    redeemed: dict[str, str] = field(default_factory=dict)
    """The `/token` form that redeemed the code (to replay it)."""


@asynccontextmanager
async def oauth_gateway(data_dir: Path | None = None, **oauth: Any) -> AsyncIterator[tuple[RunningGateway, Clock]]:
    """A gateway over the demo server with `gateway.oauth.enabled` and the two keys above."""
    clock = Clock()
    async with running_gateway(
        {"demo": DEMO}, gateway={"oauth": {"enabled": True, **oauth}}, data_dir=data_dir, **GOVERNANCE
    ) as gw:
        assert gw.state.oauth is not None
        gw.state.oauth.provider.clock = clock
        yield gw, clock


def pkce() -> tuple[str, str]:
    """A (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the consent form."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


async def register(http: httpx2.AsyncClient, base: str, auth_method: str = "client_secret_post") -> dict[str, Any]:
    """Dynamic client registration; returns the registration response."""
    body = {"redirect_uris": [REDIRECT_URI], "client_name": "Test Client", "token_endpoint_auth_method": auth_method}
    response = await http.post(f"{base}/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def consent(
    http: httpx2.AsyncClient, authorize_url: str, key: str | None, decision: str = "approve"
) -> dict[str, list[str]]:
    """Drive the consent page like a browser: follow /authorize, post the form; the redirect's query."""
    response = await http.get(authorize_url)
    assert response.status_code == 302, response.text
    page = await http.get(urljoin(authorize_url, response.headers["location"]))  # relative, as a browser resolves it
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    posted = await http.post(str(page.url).split("?")[0], data={**fields, "decision": decision, "key": key or ""})
    assert posted.status_code == 303, posted.text
    return parse_qs(urlsplit(posted.headers["location"]).query)


async def login(
    http: httpx2.AsyncClient,
    base: str,
    key: str,
    *,
    verifier_override: str | None = None,
    auth_method: str = "client_secret_post",
) -> Tokens | httpx2.Response:
    """The full flow with `key`; the tokens, or the `/token` response when it refused."""
    client = await register(http, base, auth_method)
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": f"{base}/mcp",
    }
    params = await consent(http, f"{base}/authorize?{urlencode(query)}", key)
    assert params["state"] == ["st-1"] and params["iss"] == [base], params
    data = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": REDIRECT_URI,
        "client_id": client["client_id"],
        "code_verifier": verifier_override or verifier,
        "resource": f"{base}/mcp",
    }
    headers = {}
    if auth_method == "client_secret_post":
        data["client_secret"] = client["client_secret"]
    elif auth_method == "client_secret_basic":
        pair = f"{client['client_id']}:{client['client_secret']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    response = await http.post(f"{base}/token", data=data, headers=headers)
    if response.status_code != 200:
        return response
    body = response.json()
    return Tokens(
        access=body["access_token"],
        refresh=body["refresh_token"],
        expires_in=body["expires_in"],
        client_id=client["client_id"],
        client_secret=client.get("client_secret"),
        raw=body,
        redeemed=data,
    )


async def refresh(
    http: httpx2.AsyncClient, base: str, tokens: Tokens, refresh_token: str | None = None
) -> httpx2.Response:
    """A refresh-token grant for the client of `tokens`."""
    return await http.post(
        f"{base}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token or tokens.refresh,
            "client_id": tokens.client_id,
            "client_secret": tokens.client_secret or "",
        },
    )


async def list_tools_status(http: httpx2.AsyncClient, base: str, headers: dict[str, str]) -> httpx2.Response:
    """A stateless-era `tools/list` over plain HTTP (enough to see whether a credential is taken)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    hdrs = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **headers}
    return await http.post(f"{base}/mcp", json=body, headers=hdrs)
