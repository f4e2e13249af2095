"""Downstream OAuth with the real MCP SDK client: it logs in to the gateway through the consent
page and then sees and calls exactly the tools of the key chosen there, and nothing else."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.shared.exceptions import MCPError
from pydantic import AnyUrl

from tests.core.harness import DOWNSTREAM_MODES, DownstreamMode, RunningGateway, connect
from tests.oauth_server.flow import REDIRECT_URI, form_fields, oauth_gateway


class MemoryTokens:
    """The SDK's `TokenStorage`, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """Plays the person at the consent page: a real HTTP client with its own cookie jar."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.pages: list[str] = []
        self.result: AuthorizationCodeResult | None = None
        self.logins = 0

    async def redirect_handler(self, authorization_url: str) -> None:
        self.logins += 1
        async with httpx2.AsyncClient(timeout=10) as browser:
            to_consent = await browser.get(authorization_url)
            assert to_consent.status_code == 302, to_consent.text
            page = await browser.get(urljoin(authorization_url, to_consent.headers["location"]))
            assert page.status_code == 200
            self.pages.append(page.text)
            form = {**form_fields(page.text), "key": self.key, "decision": "approve"}
            back = await browser.post(str(page.url).split("?")[0], data=form)
            assert back.status_code == 303, back.text
        location = back.headers["location"]
        assert location.startswith(REDIRECT_URI)
        query = parse_qs(urlsplit(location).query)
        self.result = AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    async def callback_handler(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result


def oauth_provider(server_url: str, browser: Browser, storage: MemoryTokens) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(redirect_uris=[AnyUrl(REDIRECT_URI)], client_name="SDK Test Client")
    return OAuthClientProvider(
        server_url,
        metadata,
        storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )


@asynccontextmanager
async def oauth_client(gw: RunningGateway, mode: DownstreamMode, auth: OAuthClientProvider) -> AsyncIterator[Client]:
    """An entered SDK client that authenticates with `auth` over the transport `mode` names."""
    if mode == "sse":
        async with Client(sse_client(f"{gw.url}/sse", auth=auth), mode="legacy") as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30.0)) as http,
        Client(
            streamable_http_client(f"{gw.url}/mcp", http_client=http),
            mode="auto" if mode == "http-auto" else "legacy",
        ) as client,
    ):
        yield client


@pytest.mark.parametrize("mode", DOWNSTREAM_MODES)
async def test_sdk_client_logs_in_and_calls_only_its_keys_tools(mode: DownstreamMode) -> None:
    async with oauth_gateway() as (gw, clock):
        browser, storage = Browser("alice-key"), MemoryTokens()
        auth = oauth_provider(f"{gw.url}/sse" if mode == "sse" else f"{gw.url}/mcp", browser, storage)
        with anyio.fail_after(30):
            async with oauth_client(gw, mode, auth) as client:
                assert browser.logins == 1
                assert "SDK Test Client" in browser.pages[0] and "mcp" in browser.pages[0]
                tools = await client.list_tools()
                assert {t.name for t in tools.tools} == {"demo__add"}  # alice's view: the math group
                result = await client.call_tool("demo__add", {"a": 2, "b": 3})
                assert not result.is_error and "5" in str(result.content)
                with pytest.raises(MCPError, match="Unknown tool: demo__echo"):
                    await client.call_tool("demo__echo", {"text": "x"})

                # Time passes on both sides: the server refuses the old token, the client refreshes it.
                old = storage.tokens
                assert old is not None and old.access_token.startswith("mcpgat_")
                clock.offset += 16 * 60
                auth.context.token_expiry_time = time.time() - 1
                result = await client.call_tool("demo__add", {"a": 1, "b": 1})
                assert not result.is_error
                assert storage.tokens is not None and storage.tokens.access_token != old.access_token
                assert storage.tokens.refresh_token != old.refresh_token
                assert browser.logins == 1  # refreshed, not logged in again


async def test_virtual_keys_keep_working_with_oauth_enabled() -> None:
    async with oauth_gateway() as (gw, _clock), connect(gw, headers={"x-api-key": "bob-key"}) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == {"demo__echo"}
