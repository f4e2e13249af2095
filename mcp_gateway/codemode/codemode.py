"""`CodeMode`: the four meta-tools over a caller's view, wired to the sandbox and the invoker."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import mcp_types as types

from mcp_gateway.codemode.arguments import Validators
from mcp_gateway.codemode.browse import Browser, Reply
from mcp_gateway.codemode.host import ScriptHost
from mcp_gateway.codemode.meta_tools import (
    EXECUTE_TOOL_CODE,
    GET_TOOL_DOCS,
    LIST_TOOL_FILES,
    META_TOOL_NAMES,
    READ_TOOL_FILE,
    ArgumentProblem,
    MetaArgs,
    meta_tool_definitions,
    parse_arguments,
)
from mcp_gateway.codemode.references import reachable_tools
from mcp_gateway.codemode.results import render_run
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import BindingFor, CodeView, ViewBuilder
from mcp_gateway.config.models import CodeModeSettings
from mcp_gateway.errors import NotFoundError, SandboxError
from mcp_gateway.invocation import CallContext, ProgressFn, ScriptContext, ToolInvoker
from sandbox.api import Limits, RunClock, RunResult, Sandbox

__all__ = ["CodeMode"]


class CodeMode:
    """Serves `listToolFiles`, `readToolFile`, `getToolDocs` and `executeToolCode`.

    Long-lived (built by the assembly, one per gateway). Everything it shows or binds comes from
    `ctx.tools` of the call at hand; rendered files are cached by `CatalogTool` identity.
    `binding_for(server)` gives the stub layout of a server (the server's `binding`, else
    `code_mode.binding`). `templates_dir` swaps in another copy of `stubs_templates/`.
    """

    META_TOOL_NAMES: frozenset[str] = META_TOOL_NAMES

    def __init__(
        self,
        *,
        settings: CodeModeSettings,
        sandbox: Sandbox,
        invoker: ToolInvoker,
        binding_for: BindingFor,
        templates_dir: Path | None = None,
        on_run: Callable[[RunResult], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_run = on_run
        self._sandbox = sandbox
        self._invoker = invoker
        self._binding_for = binding_for
        self._texts = Texts(templates_dir) if templates_dir is not None else Texts()
        self._views = ViewBuilder(self._texts)
        self._validators = Validators()
        limits = settings.sandbox
        self._budget = limits.max_output_bytes
        self._browser = Browser(self._texts, budget=self._budget)
        self._limits = Limits(
            timeout_s=limits.timeout_s,
            max_steps=limits.max_steps,
            max_tool_calls=limits.max_tool_calls,
            max_output_bytes=limits.max_output_bytes,
            memory_mb=limits.memory_mb,
            max_callstack=limits.max_callstack,
        )
        self._tools = meta_tool_definitions(self._texts, limits)

    def meta_tools(self) -> list[types.Tool]:
        """The four meta-tool definitions, to list beside the caller's direct tools."""
        return [tool.model_copy() for tool in self._tools]

    def view(self, ctx: CallContext) -> CodeView:
        """The (cached) Code Mode view of `ctx.tools`; for the server's and tests' inspection."""
        return self._views.view(ctx.tools, self._binding_for)

    def clear_caches(self) -> None:
        """Drop every cached view and rendered file (they are rebuilt on demand)."""
        self._views.clear()

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | None,
        ctx: CallContext,
        *,
        call_id: str,
        progress: ProgressFn | None = None,
    ) -> types.CallToolResult:
        """Run meta-tool `name` for the caller in `ctx`.

        Bad arguments and script faults come back as `is_error` results. Raises `NotFoundError`
        for a name that is not a meta-tool, and `SandboxError` when no script can run at all.
        `call_id` identifies this call in the logs; the script's tool calls carry it as parent.
        """
        if name not in META_TOOL_NAMES:
            raise NotFoundError("tool", name)
        try:
            args = parse_arguments(name, arguments, self._texts)
        except ArgumentProblem as exc:
            return _result(Reply(str(exc), is_error=True))
        view = self.view(ctx)
        if name == LIST_TOOL_FILES:
            return _result(self._browser.list_files(view, args.text("query")))
        if name == READ_TOOL_FILE:
            return _result(
                self._browser.read_file(
                    view, _required(args, "fileName"), args.number("startLine"), args.number("endLine")
                )
            )
        if name == GET_TOOL_DOCS:
            return _result(self._browser.tool_docs(view, _required(args, "server"), _required(args, "tool")))
        assert name == EXECUTE_TOOL_CODE
        return await self._execute(_required(args, "code"), view, ctx, call_id, progress)

    async def _execute(
        self, code: str, view: CodeView, ctx: CallContext, call_id: str, progress: ProgressFn | None
    ) -> types.CallToolResult:
        clock = RunClock()
        script = ScriptContext(code=code, reachable=reachable_tools(code, view.routes), pause=clock.paused)
        host = ScriptHost(
            view=view,
            ctx=dataclasses.replace(ctx, script=script),
            invoker=self._invoker,
            call_id=call_id,
            validators=self._validators,
            texts=self._texts,
            progress=progress,
        )
        try:
            run = await self._sandbox.run(code, bindings=view.bindings, host=host, limits=self._limits, clock=clock)
        except Exception as exc:  # the sandbox is a leaf with its own errors; translate at the boundary
            raise SandboxError(f"executeToolCode could not run: {exc}") from exc
        if self._on_run is not None:
            self._on_run(run)
        return render_run(run, self._texts, budget=self._budget, output_limit=self._limits.max_output_bytes)


def _required(args: MetaArgs, name: str) -> str:
    value = args.text(name)
    assert value is not None  # parse_arguments guarantees required arguments
    return value


def _result(reply: Reply) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=reply.text)], is_error=reply.is_error)
