"""Fixtures for Code Mode tests: real tool definitions, a fake invoker and a fake sandbox.

The fake sandbox stands in for `sandbox.create_sandbox(...)`: it does not interpret Starlark,
it runs a Python coroutine registered under the script text, which makes host calls the way the
real sandbox does (including `try_call` and `parallel` envelopes, from `sandbox.api`'s contract).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode import CodeMode
from mcp_gateway.config.models import CodeModeSettings, SandboxSettings
from mcp_gateway.errors import NotFoundError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.invocation import CallContext, CallMode, ProgressFn
from sandbox.api import (
    Bindings,
    HostCall,
    HostCallError,
    HostCallRequest,
    Limits,
    RunClock,
    RunResult,
    RunStats,
    ScriptError,
)

DATA = Path(__file__).parent / "data"


def load_tools(file: str, server: str | None = None) -> list[CatalogTool]:
    """CatalogTools from a captured `tools/list` in `data/` (server name: file stem)."""
    server = server or file.removesuffix(".json")
    raw = json.loads((DATA / file).read_text())
    return [
        CatalogTool(
            server=server,
            name=t["name"],
            exposed_name=f"{server}__{t['name']}",
            description=t.get("description") or "",
            input_schema=t.get("inputSchema") or {"type": "object"},
            output_schema=t.get("outputSchema"),
            title=t.get("title"),
        )
        for t in raw["tools"]
    ]


def tool(server: str, name: str, schema: dict[str, Any] | None = None, **kw: Any) -> CatalogTool:
    """A hand-made CatalogTool."""
    return CatalogTool(
        server=server,
        name=name,
        exposed_name=f"{server}__{name}",
        input_schema=schema if schema is not None else {"type": "object", "properties": {}},
        **kw,
    )


def make_ctx(tools: list[CatalogTool] | Mapping[str, CatalogTool]) -> CallContext:
    """A caller whose view is exactly `tools`."""
    mapping = tools if isinstance(tools, Mapping) else {t.exposed_name: t for t in tools}
    return CallContext(identity=Identity(key_name="test"), tools=dict(mapping), request_id="req-1")


def text_of(result: types.CallToolResult) -> str:
    """The single text block of a meta-tool result."""
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


@dataclass
class Call:
    """One call the fake invoker saw."""

    tool: CatalogTool
    arguments: dict[str, Any]
    mode: CallMode
    parent_id: str | None


@dataclass
class FakeInvoker:
    """Answers with `responses[(server, name)]` (a CallToolResult, an exception, or a callable
    taking the arguments); by default echoes the arguments as structured content. Like the real
    invoker, refuses tools outside `ctx.tools` with NotFoundError."""

    responses: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

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
        if ctx.tools.get(tool.exposed_name) is not tool:
            raise NotFoundError("tool", tool.exposed_name)
        self.calls.append(Call(tool, arguments, mode, parent_id))
        response = self.responses.get((tool.server, tool.name))
        if callable(response):
            response = response(arguments)
        if isinstance(response, BaseException):
            raise response
        if response is None:
            return types.CallToolResult(content=[], structured_content={"echo": arguments})
        assert isinstance(response, types.CallToolResult)
        return response


class ScriptApi:
    """What a fake script can do: host calls with the sandbox's semantics, and print."""

    def __init__(self, host: HostCall, bindings: Bindings) -> None:
        self._host = host
        self._bindings = bindings
        self.output: list[str] = []
        self.calls = 0

    def print(self, *args: Any) -> None:
        self.output.append(" ".join(str(a) for a in args))

    async def call(self, obj: str, method: str, *args: Any, line: int | None = 1, **kwargs: Any) -> Any:
        """`obj.method(*args, **kwargs)` at `line`; a HostCallError fails the script."""
        if method not in self._bindings.get(obj, frozenset()):
            raise _ScriptFailed(ScriptError("runtime", f"{obj} has no attribute {method}", line, 1))
        self.calls += 1
        try:
            return await self._host(HostCallRequest(obj, method, kwargs, tuple(args), line))
        except HostCallError as exc:
            raise _ScriptFailed(ScriptError("tool", str(exc), line, 1)) from None

    async def try_call(self, obj: str, method: str, *, line: int | None = 1, **kwargs: Any) -> dict[str, Any]:
        """`try_call(obj.method, **kwargs)`."""
        try:
            value = await self._host(HostCallRequest(obj, method, kwargs, (), line))
        except HostCallError as exc:
            return {"ok": False, "value": None, "error": str(exc)}
        return {"ok": True, "value": value, "error": None}

    async def parallel(
        self, calls: list[tuple[str, str, dict[str, Any]]], *, errors: str = "raise", line: int | None = 1
    ) -> list[Any]:
        """`parallel([[obj.method, kwargs], ...], errors=...)` (sequential here; order kept)."""
        if errors == "collect":
            return [await self.try_call(o, m, line=line, **kw) for o, m, kw in calls]
        return [await self.call(o, m, line=line, **kw) for o, m, kw in calls]


class _ScriptFailed(Exception):
    def __init__(self, error: ScriptError) -> None:
        self.error = error


Script = Callable[[ScriptApi], Awaitable[Any]]


@dataclass
class FakeSandbox:
    """A `Sandbox` whose scripts are Python coroutines registered by their code text.

    A code text starting with `error:<kind>:<line>:<column>:` returns that ScriptError without
    running anything; `raise` makes `run` raise (as a closed pool would).
    """

    scripts: dict[str, Script] = field(default_factory=dict)
    runs: list[tuple[str, Bindings, Limits | None]] = field(default_factory=list)

    async def run(
        self,
        code: str,
        *,
        bindings: Bindings,
        host: HostCall,
        limits: Limits | None = None,
        clock: RunClock | None = None,
    ) -> RunResult:
        self.runs.append((code, bindings, limits))
        if code == "raise":
            raise RuntimeError("pool closed")
        if code.startswith("error:"):
            _, kind, line, column, message = code.split(":", 4)
            error = ScriptError(kind, message, int(line) or None, int(column) or None)  # type: ignore[arg-type]
            return RunResult(output="partial\n", error=error)
        api = ScriptApi(host, bindings)
        try:
            result = await self.scripts[code](api)
        except _ScriptFailed as failed:
            return RunResult(output="\n".join(api.output), error=failed.error, stats=RunStats(tool_calls=api.calls))
        output = "\n".join(api.output)
        return RunResult(output=output, result=result, stats=RunStats(tool_calls=api.calls, output_bytes=len(output)))

    async def aclose(self) -> None:
        return None


@pytest.fixture
def invoker() -> FakeInvoker:
    return FakeInvoker()


@pytest.fixture
def fake_sandbox() -> FakeSandbox:
    return FakeSandbox()


@pytest.fixture
def settings() -> CodeModeSettings:
    return CodeModeSettings(enabled=True, sandbox=SandboxSettings())


@pytest.fixture
def bindings() -> dict[str, str]:
    """Per-server binding overrides for `code_mode` (default: `server`)."""
    return {}


@pytest.fixture
def code_mode(
    settings: CodeModeSettings, fake_sandbox: FakeSandbox, invoker: FakeInvoker, bindings: dict[str, str]
) -> CodeMode:
    return CodeMode(
        settings=settings,
        sandbox=fake_sandbox,
        invoker=invoker,
        binding_for=lambda server: bindings.get(server, settings.binding),  # type: ignore[arg-type,return-value]
    )
