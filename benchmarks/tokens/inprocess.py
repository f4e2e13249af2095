"""An in-process tool session built from the gateway's own parts (catalog naming, Code Mode, sandbox).

The benchmark's normal path is the real gateway over `/mcp` (`gateway.py`). This session serves
the same tools without HTTP, for tests and for measuring before the gateway serves Code Mode on
`/mcp`: upstreams are reached with the SDK client (replayed servers in process, the npm servers
over stdio), classic tools are named with the gateway's naming rule, and Code Mode uses the
gateway's `CodeMode` (same templates, same meta-tool definitions, same sandbox). What the model
receives is therefore the gateway's text; only the transport differs.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import mcp_types as types
from mcp import Client, StdioServerParameters

from benchmarks.tokens.client import ToolOutcome, decode_value
from benchmarks.tokens.dataset import Round
from benchmarks.tokens.gateway import Mode, gateway_config
from benchmarks.tokens.replay_server import build_server
from benchmarks.tokens.workspace import Workspace
from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.catalog.naming import exposed_names
from mcp_gateway.codemode import CodeMode
from mcp_gateway.config.models import CodeModeSettings
from mcp_gateway.governance.identity import Identity
from mcp_gateway.invocation import CallContext
from sandbox import create_sandbox

__all__ = ["InProcessSession", "open_inprocess_session"]


class _Invoker:
    """Routes a Code Mode script's tool calls to the upstream clients."""

    def __init__(self, clients: Mapping[str, Client]) -> None:
        self._clients = clients

    async def call_tool(self, ctx: CallContext, tool: CatalogTool, arguments: dict[str, Any], **_: Any) -> Any:
        return await self._clients[tool.server].call_tool(tool.name, arguments)


class InProcessSession:
    """A `ToolSession` over upstream clients, classic or Code Mode."""

    def __init__(self, clients: Mapping[str, Client], tools: list[CatalogTool], code_mode: CodeMode | None) -> None:
        self._clients = clients
        self._tools = {t.exposed_name: t for t in tools}
        self._code_mode = code_mode
        self._ctx = CallContext(identity=Identity(key_name="bench"), tools=self._tools)
        self._ids = itertools.count(1)
        self.instructions: str | None = None

    async def list_tools(self) -> list[dict[str, Any]]:
        """Classic: every namespaced tool; Code Mode: the four meta-tools."""
        if self._code_mode is not None:
            return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in self._code_mode.meta_tools()]
        out = []
        for t in self._tools.values():
            entry: dict[str, Any] = {
                "name": t.exposed_name,
                "description": t.description,
                "inputSchema": t.input_schema,
            }
            if t.output_schema:
                entry["outputSchema"] = t.output_schema
            out.append(entry)
        return out

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call a meta-tool (Code Mode) or a namespaced tool (classic)."""
        if self._code_mode is not None:
            result = await self._code_mode.call(name, arguments, self._ctx, call_id=f"bench-{next(self._ids)}")
            tool = None
        else:
            tool = self._tools.get(name)
            if tool is None:
                return ToolOutcome(f"Unknown tool: {name}", None, True)
            result = await self._clients[tool.server].call_tool(tool.name, arguments)
        text = "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))
        schema = {"outputSchema": tool.output_schema} if tool and tool.output_schema else None
        return ToolOutcome(text, decode_value(result, schema), bool(result.is_error))


def _client(name: str, entry: Mapping[str, Any], rnd: Round, ws: Workspace) -> Client:
    if entry["command"].endswith("python") or "benchmarks.tokens.replay_server" in entry.get("args", []):
        return Client(build_server(rnd.server(name), ws.journal.resolve()))
    return Client(StdioServerParameters(command=entry["command"], args=entry["args"], cwd=entry.get("cwd")))


@asynccontextmanager
async def open_inprocess_session(
    rnd: Round, mode: Mode, ws: Workspace, *, binding: str = "server"
) -> AsyncIterator[InProcessSession]:
    """Connect to every server of `rnd` and serve them as the gateway would in `mode`."""
    config = gateway_config(rnd, mode, ws, binding=binding)
    async with AsyncExitStack() as stack:
        clients: dict[str, Client] = {}
        catalog: list[CatalogTool] = []
        for name, entry in config["servers"].items():
            client = await stack.enter_async_context(_client(name, entry, rnd, ws))
            clients[name] = client
            listed = (await client.list_tools()).tools
            names = exposed_names(name, [t.name for t in listed])
            catalog += [
                CatalogTool(
                    server=name,
                    name=t.name,
                    exposed_name=names[t.name],
                    description=t.description or "",
                    input_schema=t.input_schema,
                    output_schema=t.output_schema,
                    title=t.title,
                )
                for t in listed
            ]
        code_mode = None
        if mode == "codemode":
            settings = CodeModeSettings(enabled=True, binding=binding)
            sandbox = await stack.enter_async_context(create_sandbox(settings.sandbox.engine, workers=1))
            code_mode = CodeMode(
                settings=settings, sandbox=sandbox, invoker=_Invoker(clients), binding_for=lambda _s: binding
            )
        yield InProcessSession(clients, catalog, code_mode)
