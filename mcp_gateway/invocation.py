"""The seam between request handling and tool execution.

The downstream server and Code Mode both run tool calls through one `ToolInvoker`, so a call made
by a script inside `executeToolCode` takes exactly the path of a direct `tools/call`: permission
check, (later) approval and limits, upstream call, logging with its parent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import mcp_types as types

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.governance.identity import Identity

__all__ = ["CallContext", "CallMode", "ProgressFn", "ScriptContext", "ToolInvoker"]

CallMode = Literal["direct", "code"]

ProgressFn = Callable[[float, float | None, str | None], Awaitable[None]]
"""`(progress, total, message)`: forwards an upstream progress notification to the caller."""


@dataclass(slots=True)
class ScriptContext:
    """The `executeToolCode` run a tool call comes from: shown to reviewers of its held calls.

    `reachable` are the tools the script references (found before it ran); `calls` grows as
    it calls them (`{"tool", "arguments", "status"}`); `pause()` stops the script's wall clock
    while a call waits for a reviewer.
    """

    code: str
    reachable: tuple[str, ...] = ()
    calls: list[dict[str, Any]] = field(default_factory=list)
    pause: Callable[[], AbstractContextManager[None]] = nullcontext


@dataclass(frozen=True, slots=True)
class CallContext:
    """Everything about the caller that a tool call needs.

    `tools` is the caller's view of the catalog: exposed name -> tool, already filtered.
    """

    identity: Identity
    tools: Mapping[str, CatalogTool]
    request_id: str | None = None
    client_name: str | None = None
    client_version: str | None = None
    script: ScriptContext | None = None


class ToolInvoker(Protocol):
    """Runs one tool call on behalf of a caller."""

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
        """Call `tool` upstream after checking it is in `ctx.identity`'s view.

        A tool outside the view raises `NotFoundError` exactly as an unknown tool would.
        Upstream tool failures come back as `CallToolResult(is_error=True)`; the gateway's own
        failures (upstream down, timeout) raise `UpstreamError`.
        """
        ...
