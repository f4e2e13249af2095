"""The one path every tool call takes, direct or from a Code Mode script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import mcp_types as types

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.errors import NotFoundError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.invocation import CallContext, CallMode, ProgressFn
from mcp_gateway.upstream.connection import Upstream

__all__ = ["Admit", "GatewayInvoker"]

Admit = Callable[[Identity, str, str], Awaitable[object]]
"""Charges one call of `(server, tool)` to the caller's limits; raises `PolicyError` to refuse."""


class GatewayInvoker:
    """Checks the caller's view again at call time, charges its limits, then calls the upstream.

    The view check is repeated here even though listings are already filtered: a Code Mode
    script or a stale client could name any tool, and the view may have changed since it listed.
    """

    def __init__(self, upstreams: Mapping[str, Upstream], admit: Callable[[], Admit]) -> None:
        self._upstreams = upstreams
        self._admit = admit

    async def call_tool(
        self,
        ctx: CallContext,
        tool: CatalogTool,
        arguments: dict[str, Any],
        *,
        mode: CallMode = "direct",
        parent_id: str | None = None,
        progress: ProgressFn | None = None,
    ) -> types.CallToolResult:
        """Call `tool` for `ctx`'s caller; see `ToolInvoker.call_tool`."""
        if ctx.tools.get(tool.exposed_name) is not tool or not ctx.identity.allows(tool.server, tool.name):
            raise NotFoundError("tool", tool.exposed_name)
        upstream = self._upstreams.get(tool.server)
        if upstream is None:
            raise NotFoundError("tool", tool.exposed_name)
        await self._admit()(ctx.identity, tool.server, tool.name)
        return await upstream.call_tool(tool.name, arguments, progress=progress)
