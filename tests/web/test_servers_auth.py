"""The servers page with an OAuth-protected upstream: its auth state, and a login started from the
page (CSRF-checked) that ends with the upstream ready and the page saying `authorized`."""

from __future__ import annotations

import html
import re
from pathlib import Path

import anyio
import httpx2

from mcp_gateway.upstream.connection import UpstreamState
from tests.oauth_upstream.conftest import ADMIN_KEY, oauth_server, running_gateway
from tests.oauth_upstream.servers import browser_login, protected_server
from tests.web.support import hidden_field, log_in


async def test_an_upstream_oauth_login_started_from_the_servers_page(tmp_path: Path) -> None:
    async with (
        protected_server() as upstream,
        running_gateway({"secured": oauth_server(upstream.url)}, tmp_path) as gw,
        httpx2.AsyncClient(base_url=gw.url, timeout=30) as http,
    ):
        assert (await log_in(http, ADMIN_KEY)).status_code == 303
        page = await http.get("/ui/servers")
        assert page.status_code == 200
        assert "state-needs_login" in page.text and "oauth: needs_login" in page.text
        csrf = hidden_field(page.text, "csrf")

        forged = await http.post("/ui/servers/secured/login", data={"csrf": "forged"})
        assert forged.status_code == 403
        unknown = await http.post("/ui/servers/nope/login", data={"csrf": csrf})
        assert unknown.status_code == 404 and "has no" in unknown.text

        started = await http.post("/ui/servers/secured/login", data={"csrf": csrf})
        assert started.status_code == 200
        found = re.search(r'<a href="([^"]+)" target="_blank"', started.text)
        assert found is not None, started.text
        authorization_url = html.unescape(found.group(1))
        assert authorization_url.startswith(upstream.base_url) and "code_challenge=" in authorization_url
        assert (await browser_login(authorization_url)).status_code == 200
        with anyio.fail_after(20):
            await gw.state.upstreams["secured"].wait_for_state(UpstreamState.READY)

        after = await http.get("/ui/servers")
        assert "oauth: authorized" in after.text and "Log in again" in after.text
        assert "state-ready" in after.text and "<code>add</code>" in after.text
