"""The downstream MCP server: SDK low-level `Server` handlers over the caller's view.

Every handler resolves the caller (put on the ASGI scope by `IdentityMiddleware`), takes its view
of the current catalog and answers from it. Unknown names and names outside the view get the
same JSON-RPC error, so a key cannot learn which tools exist beyond its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol

import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError

from mcp_gateway.catalog.catalog import Catalog
from mcp_gateway.errors import NotFoundError, PolicyError, SandboxError, UpstreamError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.governance.payloads import error_payload
from mcp_gateway.invocation import CallContext, ProgressFn, ToolInvoker
from mcp_gateway.observability import new_log_id
from mcp_gateway.server.audit import Audit, AuditMiddleware
from mcp_gateway.server.notifier import ListChangedNotifier
from mcp_gateway.server.views import View, ViewCache
from mcp_gateway.upstream.connection import Upstream, UpstreamRequestError

__all__ = ["CURRENT_IDENTITY", "IDENTITY_SCOPE_KEY", "CodeModeHandler", "build_mcp_server"]

logger = logging.getLogger("mcp_gateway.server")

_RESOURCE_NOT_FOUND = -32002  # MCP spec: resource not found

IDENTITY_SCOPE_KEY = "mcp_gateway.identity"
"""Where `IdentityMiddleware` leaves the resolved `Identity` on the ASGI scope."""

CURRENT_IDENTITY: ContextVar[Identity | None] = ContextVar("mcp_gateway_identity", default=None)
"""The same identity for code that sees no scope (the SDK's pre-dispatch header checks)."""


class CodeModeHandler(Protocol):
    """What the server needs from Code Mode (implemented by `mcp_gateway.codemode.CodeMode`)."""

    META_TOOL_NAMES: frozenset[str]

    def meta_tools(self) -> list[types.Tool]:
        """The four meta-tool definitions."""
        ...

    async def call(
        self,
        name: str,
        arguments: dict[str, Any],
        ctx: CallContext,
        *,
        call_id: str,
        progress: ProgressFn | None = None,
    ) -> types.CallToolResult:
        """Run one meta-tool for the caller."""
        ...


def _identity(ctx: ServerRequestContext[Any, Any]) -> Identity:
    request = ctx.request
    scope = getattr(request, "scope", None)
    identity = scope.get(IDENTITY_SCOPE_KEY) if scope is not None else None
    if not isinstance(identity, Identity):
        # IdentityMiddleware guards every route that reaches here; this is defence in depth.
        raise MCPError(types.INVALID_REQUEST, "unauthenticated request")
    return identity


def _identity_or_none(ctx: ServerRequestContext[Any, Any]) -> Identity | None:
    try:
        return _identity(ctx)
    except MCPError:
        return None


def _wants_progress(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether the request carries a progress token (only then is progress worth relaying)."""
    meta: Mapping[str, Any] = ctx.meta or {}
    return meta.get("progress_token", meta.get("progressToken")) is not None


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


class _Handlers:
    def __init__(
        self,
        *,
        catalog: Catalog,
        views: ViewCache,
        invoker: ToolInvoker,
        upstreams: Mapping[str, Upstream],
        codemode: Callable[[], CodeModeHandler | None],
        notifier: ListChangedNotifier,
        audit: Callable[[], Audit | None],
    ) -> None:
        self.audit = audit
        self.catalog = catalog
        self.views = views
        self.invoker = invoker
        self.upstreams = upstreams
        self.codemode = codemode
        self.notifier = notifier

    def _view(self, ctx: ServerRequestContext[Any, Any]) -> tuple[Identity, View]:
        identity = _identity(ctx)
        request = ctx.request
        headers = getattr(request, "headers", None)
        session_id = headers.get("mcp-session-id") if headers is not None else None
        if not session_id and request is not None:  # legacy SSE carries its session in the query
            session_id = getattr(request, "query_params", {}).get("session_id")
        if session_id:
            self.notifier.remember(session_id, ctx.session)
        return identity, self.views.get(identity, self.catalog.snapshot)

    async def list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        _, view = self._view(ctx)
        return types.ListToolsResult(tools=list(view.listed_tools))

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        identity, _ = self._view(ctx)
        client = ctx.session.client_params
        return await self.run_tool_call(
            identity,
            params.name,
            dict(params.arguments or {}),
            request_id=str(ctx.request_id) if ctx.request_id is not None else None,
            client=client.client_info if client is not None else None,
            progress=ctx.session.report_progress if _wants_progress(ctx) else None,
        )

    async def run_tool_call(
        self,
        identity: Identity,
        name: str,
        arguments: dict[str, Any],
        *,
        request_id: str | None,
        client: types.Implementation | None,
        progress: ProgressFn | None,
    ) -> types.CallToolResult:
        """One `tools/call` for `identity`, whichever transport carried it.

        Raises `MCPError` for protocol errors (unknown tool, upstream JSON-RPC errors); the
        gateway's own failures and policy refusals come back as `is_error` results.
        """
        view = self.views.get(identity, self.catalog.snapshot)
        call_ctx_args: dict[str, Any] = {
            "identity": identity,
            "request_id": request_id,
            "client_name": client.name if client is not None else None,
            "client_version": client.version if client is not None else None,
        }
        try:
            codemode = self.codemode()
            if codemode is not None and view.code_tools and name in codemode.META_TOOL_NAMES:
                call_ctx = CallContext(tools=view.code_tools, **call_ctx_args)
                return await self._meta_tool(codemode, name, arguments, call_ctx, progress)
            tool = view.direct_tools.get(name)
            if tool is None:
                self._audit_refused(CallContext(tools={}, **call_ctx_args), name, arguments)
                raise NotFoundError("tool", name)
            call_ctx = CallContext(tools=view.direct_tools, **call_ctx_args)
            return await self.invoker.call_tool(call_ctx, tool, arguments, progress=progress)
        except NotFoundError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from exc
        except UpstreamRequestError as exc:
            raise MCPError(exc.code, exc.upstream_message, exc.data) from exc
        except SandboxError as exc:
            return _tool_error(f"Code Mode is unavailable: {exc}")
        except UpstreamError as exc:
            # The gateway could not run the call: the model reads why and may retry later.
            return _tool_error(str(exc))
        except PolicyError as exc:
            # Rate limits and budgets: the same facts as the HTTP body, for the model to read.
            return _tool_error(json.dumps(error_payload(exc), default=str))

    async def _meta_tool(
        self,
        codemode: CodeModeHandler,
        name: str,
        arguments: dict[str, Any],
        ctx: CallContext,
        progress: ProgressFn | None,
    ) -> types.CallToolResult:
        """Run a meta-tool; its record is the parent of the tool calls its script makes."""
        audit = self.audit()
        if audit is None:
            return await codemode.call(name, arguments, ctx, call_id=new_log_id(), progress=progress)
        call = audit.begin(ctx, None, name, arguments)
        return await audit.record(call, codemode.call(name, arguments, ctx, call_id=call.log_id, progress=progress))

    def _audit_refused(self, ctx: CallContext, name: str, arguments: dict[str, Any]) -> None:
        """Record a call of a tool the caller cannot see: who tried what is worth knowing."""
        audit = self.audit()
        if audit is not None:
            audit.finish(audit.begin(ctx, None, name, arguments), error=NotFoundError("tool", name))

    async def list_prompts(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        _, view = self._view(ctx)
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.exposed_name,
                    title=p.title,
                    description=p.description or None,
                    arguments=[types.PromptArgument.model_validate(a) for a in p.arguments] or None,
                )
                for p in view.prompts.values()
            ]
        )

    async def get_prompt(
        self, ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        _, view = self._view(ctx)
        prompt = view.prompts.get(params.name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}")
        result: types.GetPromptResult = await self._upstream_call(
            prompt.server, lambda u: u.get_prompt(prompt.name, params.arguments)
        )
        return result

    async def list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        _, view = self._view(ctx)
        return types.ListResourcesResult(resources=list(view.listed_resources))

    async def list_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        _, view = self._view(ctx)
        return types.ListResourceTemplatesResult(resource_templates=list(view.listed_templates))

    async def read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        _, view = self._view(ctx)
        uri = str(params.uri)
        resource = view.allows_resource(uri)
        if resource is None:
            raise MCPError(_RESOURCE_NOT_FOUND, f"Unknown resource: {uri}")
        result: types.ReadResourceResult = await self._upstream_call(resource.server, lambda u: u.read_resource(uri))
        return result

    async def complete(
        self, ctx: ServerRequestContext[Any, Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        """Route an argument completion to the upstream that owns the prompt or resource template."""
        _, view = self._view(ctx)
        context = params.context.arguments if params.context is not None else None
        argument = {"name": params.argument.name, "value": params.argument.value}
        ref = params.ref
        if isinstance(ref, types.PromptReference):
            prompt = view.prompts.get(ref.name)
            if prompt is None:
                raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {ref.name}")
            upstream_ref: types.PromptReference | types.ResourceTemplateReference = types.PromptReference(
                type="ref/prompt", name=prompt.name
            )
            server = prompt.server
        else:
            template = next((t for t in view.templates if t.uri == ref.uri), None)
            if template is None:
                raise MCPError(_RESOURCE_NOT_FOUND, f"Unknown resource template: {ref.uri}")
            upstream_ref, server = ref, template.server
        result: types.CompleteResult = await self._upstream_call(
            server, lambda u: u.complete(upstream_ref, argument, context)
        )
        return result

    async def cached_tools_list(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Serve `tools/list` from the view's serialized copy after the first request.

        The SDK validates and re-dumps every result against the protocol version's schema: for
        hundreds of tools that is tens of milliseconds per request, for the same bytes each time.
        A middleware that returns without `call_next` owns the result as-is (SDK contract).
        """
        if ctx.method != "tools/list" or ctx.request_id is None:
            return await call_next(ctx)
        try:
            _, view = self._view(ctx)
        except MCPError:
            return await call_next(ctx)
        cached = view.wire_listing.get(ctx.protocol_version)
        if cached is None:
            result = await call_next(ctx)
            if not isinstance(result, dict):
                return result
            view.wire_listing[ctx.protocol_version] = cached = result
        return dict(cached)

    def tool_input_schema(self, name: str) -> Mapping[str, Any] | None:
        """Input schema of `name` in the current caller's view, for `Mcp-Param-*` header checks.

        Without it the SDK would run the whole `tools/list` handler on every modern `tools/call`.
        A tool outside the view answers None, exactly like a tool that does not exist.
        """
        identity = CURRENT_IDENTITY.get()
        if identity is None:
            return None
        tool = self.views.get(identity, self.catalog.snapshot).direct_tools.get(name)
        return tool.input_schema if tool is not None else None

    async def _upstream_call(self, server: str, call: Callable[[Upstream], Any]) -> Any:
        upstream = self.upstreams.get(server)
        if upstream is None:
            raise MCPError(types.INTERNAL_ERROR, f"upstream '{server}' is not configured")
        try:
            return await call(upstream)
        except UpstreamRequestError as exc:
            raise MCPError(exc.code, exc.upstream_message, exc.data) from exc
        except UpstreamError as exc:
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from exc


async def _name_unknown_methods(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """The SDK answers `Method not found`; say which method, so a client author can see the typo."""
    try:
        return await call_next(ctx)
    except MCPError as exc:
        if exc.code == types.METHOD_NOT_FOUND and ctx.method not in exc.message:
            raise MCPError(exc.code, f"Method not found: {ctx.method}", exc.data) from exc
        raise


class _GatewayServer(Server[Any]):
    """Announces list_changed for tools, prompts and resources on handshake-era connections."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options
            or NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True),
            experimental_capabilities,
            extensions,
        )


def build_mcp_server(
    *,
    name: str,
    version: str,
    catalog: Catalog,
    views: ViewCache,
    invoker: ToolInvoker,
    upstreams: Mapping[str, Upstream],
    codemode: Callable[[], CodeModeHandler | None],
    notifier: ListChangedNotifier,
    audit: Callable[[], Audit | None] = lambda: None,
    instructions: str | None = None,
) -> tuple[Server[Any], _Handlers, Sequence[object]]:
    """The SDK server object serving the gateway, plus objects that must live as long as it.

    `codemode` is a getter: Code Mode is built in the lifespan (it needs the sandbox's workers)
    and rebuilt when a reload changes its settings.
    """
    h = _Handlers(
        catalog=catalog,
        views=views,
        invoker=invoker,
        upstreams=upstreams,
        codemode=codemode,
        notifier=notifier,
        audit=audit,
    )
    listen = ListenHandler(notifier.bus)
    server: Server[Any] = _GatewayServer(
        name,
        version=version,
        instructions=instructions,
        get_tool_input_schema=h.tool_input_schema,
        on_list_tools=h.list_tools,
        on_call_tool=h.call_tool,
        on_list_prompts=h.list_prompts,
        on_get_prompt=h.get_prompt,
        on_list_resources=h.list_resources,
        on_list_resource_templates=h.list_templates,
        on_read_resource=h.read_resource,
        on_completion=h.complete,
        on_subscriptions_listen=listen,
    )
    server.middleware.extend([AuditMiddleware(audit, _identity_or_none), _name_unknown_methods, h.cached_tools_list])
    return server, h, (listen,)
