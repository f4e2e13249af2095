"""A change of an upstream's tools reaches the catalog and every downstream client."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.client.session import IncomingMessage

from tests.core.harness import DOWNSTREAM_MODES, DownstreamMode, connect, python_server, running_gateway

UPSTREAMS = {
    "inprocess": {"transport": "inprocess", "target": "tests.core.changing_server:mcp"},
    "stdio": python_server("tests.core.changing_server"),
}


@pytest.mark.parametrize("upstream", sorted(UPSTREAMS))
async def test_upstream_change_updates_the_catalog(upstream: str) -> None:
    async with running_gateway({"chg": UPSTREAMS[upstream]}) as gw, connect(gw) as client:
        catalog = gw.state.catalog
        updated = anyio.Event()
        catalog.subscribe(lambda snap: updated.set() if f"chg__new_{upstream}" in snap.tools else None)
        with anyio.fail_after(10):
            await client.call_tool("chg__grow", {"name": f"new_{upstream}"})
            await updated.wait()
            names = {t.name for t in (await client.list_tools()).tools}
            assert f"chg__new_{upstream}" in names
            result = await client.call_tool(f"chg__new_{upstream}", {})
            assert isinstance(result.content[0], types.TextContent)
            assert result.content[0].text == f"I am new_{upstream}"


@pytest.mark.parametrize("mode", [m for m in DOWNSTREAM_MODES if m != "http-auto"])
async def test_handshake_clients_receive_tools_list_changed(mode: DownstreamMode) -> None:
    """Handshake-era sessions hear about it on their standalone stream."""
    heard = anyio.Event()
    drained = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()
        if isinstance(message, types.ResourceListChangedNotification):
            drained.set()  # the last of the three; closing before it races the SDK's SSE reader

    async with (
        running_gateway({"chg": UPSTREAMS["inprocess"]}) as gw,
        connect(gw, mode, message_handler=on_message) as client,
    ):
        with anyio.fail_after(10):
            await client.list_tools()
            await client.call_tool("chg__grow", {"name": f"via_{mode.replace('-', '_')}"})
            await heard.wait()
            await drained.wait()


async def test_modern_clients_receive_events_on_listen_streams() -> None:
    async with running_gateway({"chg": UPSTREAMS["inprocess"]}) as gw, connect(gw, "http-auto") as client:
        with anyio.fail_after(10):
            async with client.listen(tools_list_changed=True) as subscription:
                await client.call_tool("chg__grow", {"name": "for_listeners"})
                events: list[Any] = []
                async for event in subscription:
                    events.append(event)
                    break
            assert events, "a tools-changed event arrives on the listen stream"
            assert "chg__for_listeners" in {t.name for t in (await client.list_tools()).tools}
