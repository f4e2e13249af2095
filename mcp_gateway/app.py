"""Assembly: build every part from the config and wire them; nothing else creates long-lived state.

`create_app(config)` returns a Starlette app. Its lifespan builds governance (key store, limits),
starts the sandbox's worker processes, the upstream supervisors, the MCP session manager and the
config watcher, and stops them all (and every child process) on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import InMemorySubscriptionBus
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_gateway.admin.approvals import approval_routes
from mcp_gateway.admin.keys import key_routes, require_admin
from mcp_gateway.admin.logs import log_routes, metrics_routes
from mcp_gateway.admin.servers import server_status_routes
from mcp_gateway.admin.upstream_auth import upstream_auth_routes
from mcp_gateway.admin.web import WebSources, web_routes
from mcp_gateway.approvals import ApprovalQueue, ApprovalStore, MemoryApprovalStore, SQLiteApprovalStore
from mcp_gateway.catalog.catalog import Catalog
from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode import CodeMode
from mcp_gateway.config.models import GatewayConfig
from mcp_gateway.errors import ForbiddenError
from mcp_gateway.governance import Governance, Identity, MemoryKeyStore, SQLiteKeyStore, ToolFilter
from mcp_gateway.governance.views import ToolPolicy
from mcp_gateway.observability import GatewayMetrics, open_observability
from mcp_gateway.reload import ConfigWatcher
from mcp_gateway.server.audit import Audit, count_decisions, count_sandbox_runs
from mcp_gateway.server.fastpath import StatelessToolCalls
from mcp_gateway.server.handlers import build_mcp_server
from mcp_gateway.server.identity import Authenticator, GroupScope, IdentityMiddleware, not_started
from mcp_gateway.server.invoker import GatewayInvoker
from mcp_gateway.server.notifier import ListChangedNotifier
from mcp_gateway.server.oauth import OAuthServer, build_oauth_server
from mcp_gateway.server.transports import SseEndpoints, build_session_manager, security_settings
from mcp_gateway.server.views import ViewCache
from mcp_gateway.upstream.manager import UpstreamSet
from mcp_gateway.upstream.oauth import UpstreamAuth
from sandbox import Sandbox, create_sandbox

__all__ = ["GatewayState", "create_app"]

logger = logging.getLogger("mcp_gateway")


def _version() -> str:
    try:
        return version("mcp-gateway")
    except PackageNotFoundError:
        return "0.0.0"


@dataclass
class GatewayState:
    """The parts of one running gateway, for the admin surface and tests."""

    config: GatewayConfig
    catalog: Catalog
    upstreams: UpstreamSet
    notifier: ListChangedNotifier
    views: ViewCache | None = None
    governance: Governance | None = None
    authenticator: Authenticator = not_started
    codemode: CodeMode | None = None
    watcher: ConfigWatcher | None = None
    invoker: GatewayInvoker | None = None
    approvals: ApprovalQueue | None = None
    audit: Audit | None = None
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    sandbox: Sandbox | None = None
    oauth: OAuthServer | None = None
    upstream_auth: UpstreamAuth | None = None
    started: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def code_mode_for(self, identity: Identity, tool: CatalogTool) -> bool:
        """Group policy first (any group saying yes wins), then the server's setting, then the default."""
        if identity.view is not None:
            policy = identity.view.policy_for(tool.server, tool.name)
            if policy is not None and policy.code_mode is not None:
                return policy.code_mode
        server = self.config.servers.get(tool.server)
        if server is not None and server.code_mode is not None:
            return server.code_mode
        return self.config.code_mode.enabled

    async def apply_config(self, config: GatewayConfig) -> None:
        """Swap in a validated config: views first (may refuse), then upstreams; sessions stay."""
        if self.governance is not None:
            self.governance.replace(config, api_key=config.gateway.api_key)
        if self.approvals is not None:
            self.approvals.configure(config.approvals)
        if config.gateway.model_dump(exclude={"api_key"}) != self.config.gateway.model_dump(exclude={"api_key"}):
            logger.warning("changes under 'gateway' (listener, limits) take effect after a restart")
        old_code_mode, self.config = self.config.code_mode, config
        if config.code_mode != old_code_mode:
            if config.code_mode.sandbox.engine != old_code_mode.sandbox.engine or (
                config.code_mode.sandbox.workers != old_code_mode.sandbox.workers
            ):
                logger.warning("code_mode.sandbox engine and workers take effect after a restart")
            self.build_code_mode()
        elif self.codemode is not None:
            self.codemode.clear_caches()
        if self.upstream_auth is not None:
            self.upstream_auth.apply(config.servers)
        self.upstreams.apply(config.servers)
        if self.views is not None:
            self.views.clear()  # Code Mode settings may have moved
        await self.notifier.notify_all()

    def binding_for(self, server: str) -> Literal["server", "tool"]:
        """The Code Mode stub layout of `server`: its own `binding`, else `code_mode.binding`."""
        cfg = self.config.servers.get(server)
        return cfg.binding if cfg is not None and cfg.binding is not None else self.config.code_mode.binding

    def build_code_mode(self) -> None:
        """(Re)build Code Mode over the running sandbox with the current settings."""
        if self.sandbox is None or self.invoker is None:
            return
        self.codemode = CodeMode(
            settings=self.config.code_mode,
            sandbox=self.sandbox,
            invoker=self.invoker,
            binding_for=self.binding_for,
            on_run=count_sandbox_runs(self.metrics),
        )

    def require_admin(self, request: Request) -> Identity:
        """The admin identity of `request`, or a `PolicyError`."""
        if self.governance is None:
            raise ForbiddenError("the gateway is starting")
        return require_admin(self.governance, request)

    def group_filter(self, identity: Identity, group: str) -> ToolFilter:
        """The tools of `group` (for `/mcp/<group>`); nothing before governance is up."""
        if self.governance is None:
            return lambda server, tool: False
        return self.governance.group_filter(identity, group)


async def _build_approvals(config: GatewayConfig, data_dir: Path | None, stack: AsyncExitStack) -> ApprovalQueue:
    store: ApprovalStore = (
        await SQLiteApprovalStore.open(data_dir / "approvals.db") if data_dir is not None else MemoryApprovalStore()
    )
    stack.push_async_callback(store.aclose)
    queue = ApprovalQueue(store, config.approvals)
    await queue.start()
    stack.push_async_callback(queue.aclose)  # runs first: waiting callers get an answer
    return queue


async def _build_governance(config: GatewayConfig, data_dir: Path | None, stack: AsyncExitStack) -> Governance:
    store = await SQLiteKeyStore.open(data_dir / "keys.db") if data_dir is not None else MemoryKeyStore()
    if hasattr(store, "aclose"):
        stack.push_async_callback(store.aclose)
    return await Governance.from_config(config, api_key=config.gateway.api_key, key_store=store)


def create_app(config: GatewayConfig, *, config_path: Path | None = None, data_dir: Path | None = None) -> Starlette:
    """Build the gateway's ASGI app from a validated config.

    `config_path` enables reloading (SIGHUP, file changes, `POST /api/config/reload`);
    `data_dir` holds persistent state (without it, keys created at run time live in memory).
    """
    catalog = Catalog(namespace_for=lambda server: _namespace(state.config, server))
    notifier = ListChangedNotifier(InMemorySubscriptionBus())
    changed = [anyio.Event()]  # replaced after each fan-out; boxed so the closures see the new one
    catalog.subscribe(lambda _snapshot: changed[0].set())
    upstream_auth = UpstreamAuth(config.servers)
    upstreams = UpstreamSet(
        config.servers,
        on_listing=catalog.update,
        on_removed=catalog.remove,
        credentials_for=upstream_auth.credentials_for,
    )
    state = GatewayState(
        config=config, catalog=catalog, upstreams=upstreams, notifier=notifier, upstream_auth=upstream_auth
    )
    state.oauth = build_oauth_server(config.gateway.oauth)
    views = ViewCache(
        code_mode_for=state.code_mode_for,
        meta_tools=lambda: state.codemode.meta_tools() if state.codemode is not None else [],
    )
    state.views = views

    async def admit(identity: Identity, server: str, tool: str) -> ToolPolicy:
        assert state.governance is not None  # requests only arrive once the lifespan built it
        return await state.governance.admit_tool_call(identity, server, tool)

    invoker = GatewayInvoker(
        upstreams, admit=lambda: admit, approvals=lambda: state.approvals, audit=lambda: state.audit
    )
    state.invoker = invoker
    server, handlers, keep_alive = build_mcp_server(
        name="mcp-gateway",
        version=_version(),
        catalog=catalog,
        views=views,
        invoker=invoker,
        upstreams=upstreams,
        codemode=lambda: state.codemode,
        notifier=notifier,
        audit=lambda: state.audit,
    )
    state.extra["keep_alive"] = (handlers, *keep_alive)
    session_manager = build_session_manager(server, config.gateway)
    sse = SseEndpoints(server, config.gateway)
    if config_path is not None:
        state.watcher = ConfigWatcher(config_path, state.apply_config)
    admin_router = Router()  # filled in the lifespan, once governance exists

    lifespan = _lifespan(state, session_manager, admin_router, data_dir, changed)

    def guarded(inner: ASGIApp) -> ASGIApp:
        if state.oauth is not None:
            return state.oauth.protect(inner, lambda: state.authenticator)
        return IdentityMiddleware(inner, lambda: state.authenticator)

    mcp_app = StatelessToolCalls(
        StreamableHTTPASGIApp(session_manager),
        run=handlers.run_tool_call,
        security=security_settings(config.gateway),
        max_body=config.gateway.max_request_bytes,
        server_info=lambda: server.server_info_stamp,
    )
    routes: list[Route | Mount] = [
        Route("/mcp", guarded(mcp_app), methods=["GET", "POST", "DELETE"]),  # first: the hot path
        *server_status_routes(
            upstreams,
            is_started=lambda: state.started,
            require_admin=state.require_admin,
            reload=state.watcher.reload if state.watcher is not None else None,
            auth_status=upstream_auth.status,
        ),
        *upstream_auth_routes(upstream_auth, require_admin=state.require_admin),
        Route("/mcp/{group}", guarded(GroupScope(mcp_app, state.group_filter)), methods=["GET", "POST", "DELETE"]),
        Route("/sse", guarded(sse.connect), methods=["GET"]),
        Mount("/messages", app=guarded(sse.post_message)),
        *(state.oauth.routes() if state.oauth is not None else ()),
        Mount("", app=admin_router),
    ]
    app = GatewayApp(routes=routes, lifespan=lifespan, mcp_post=guarded(mcp_app))
    app.state.gateway = state
    return app


class GatewayApp(Starlette):
    """The gateway's Starlette app, with `POST /mcp` (the hot path) dispatched before the rest.

    Starlette's error and exception middleware and its router cost about 15 us per request
    (measured in-process). `POST /mcp` would match the first route anyway, and its app answers
    its own errors (an exception it misses gets uvicorn's plain 500 instead of Starlette's), so
    it is handed straight to `mcp_post`. Everything else, and `/mcp` under a root path, goes
    through Starlette as usual.
    """

    def __init__(
        self,
        *,
        routes: list[Route | Mount],
        lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]],
        mcp_post: ASGIApp,
    ) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self._mcp_post = mcp_post

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = scope["type"] == "http" and scope["path"] == "/mcp" and scope["method"] == "POST"
        if hot and not scope.get("root_path"):
            scope["app"] = self
            await self._mcp_post(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def _start_review_and_audit(
    state: GatewayState, governance: Governance, admin_router: Router, data_dir: Path | None, stack: AsyncExitStack
) -> None:
    """The approval queue, audit logging and metrics, with their admin routes."""
    approvals = state.approvals = await _build_approvals(state.config, data_dir, stack)
    approvals.listeners.append(count_decisions(state.metrics))
    admin_router.routes.extend(approval_routes(lambda: governance, lambda: approvals))
    state.metrics.bind(upstream_states=state.upstreams.states, approvals_pending=lambda: approvals.pending_count)
    observability = open_observability(state.config.logging, data_dir, metrics=state.metrics)
    obs = await stack.enter_async_context(observability)
    state.audit = Audit(obs)
    admin_router.routes.extend(metrics_routes(lambda: governance, state.metrics))
    if obs.store is not None and obs.writer is not None:
        store, writer = obs.store, obs.writer
        admin_router.routes.extend(log_routes(lambda: governance, lambda: store, lambda: writer))


def _web_sources(state: GatewayState, governance: Governance) -> WebSources:
    """What the `/ui/` pages read: built parts, and getters for the ones a reload replaces."""
    approvals, audit = state.approvals, state.audit
    assert approvals is not None and audit is not None  # _start_review_and_audit built them
    return WebSources(
        lambda: governance,
        lambda: approvals,
        state.upstreams,
        lambda: state.config,
        audit.obs.store,
        state.upstream_auth,
    )


def _lifespan(
    state: GatewayState,
    session_manager: StreamableHTTPSessionManager,
    admin_router: Router,
    data_dir: Path | None,
    changed: list[anyio.Event],
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start governance, upstreams, change fan-out, config watching and the MCP session manager."""

    async def fan_out_changes() -> None:
        while True:
            await changed[0].wait()
            changed[0] = anyio.Event()
            await state.notifier.notify_all()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            governance = await _build_governance(state.config, data_dir, stack)
            state.governance = governance
            state.authenticator = governance.authenticate
            if state.oauth is not None:
                await state.oauth.start(data_dir, governance, stack)
                state.authenticator = state.oauth.authenticator(governance.authenticate)
            governance.view_listeners.append(lambda change: changed[0].set())
            admin_router.routes.extend(key_routes(governance))
            await _start_review_and_audit(state, governance, admin_router, data_dir, stack)
            admin_router.routes.extend(web_routes(_web_sources(state, governance)))
            sandbox_settings = state.config.code_mode.sandbox
            state.sandbox = await stack.enter_async_context(
                create_sandbox(engine=sandbox_settings.engine, workers=sandbox_settings.workers)
            )
            state.build_code_mode()
            async with anyio.create_task_group() as tg:
                if state.upstream_auth is not None:
                    await tg.start(state.upstream_auth.run, data_dir, name="upstream-auth")
                tg.start_soon(state.upstreams.run, name="upstreams")
                tg.start_soon(fan_out_changes, name="list-changed")
                tg.start_soon(governance.run_key_sync, name="key-sync")
                if state.oauth is not None:
                    tg.start_soon(state.oauth.run_maintenance, name="oauth-maintenance")
                if state.watcher is not None:
                    tg.start_soon(state.watcher.watch_file, name="config-file")
                    tg.start_soon(state.watcher.watch_sighup, name="config-sighup")
                async with session_manager.run():
                    state.started = True
                    logger.info("gateway ready; %d upstream(s) starting", len(state.upstreams))
                    try:
                        yield
                    finally:
                        state.started = False
                tg.cancel_scope.cancel()

    return lifespan


def _namespace(config: GatewayConfig, server: str) -> bool:
    cfg = config.servers.get(server)
    return cfg.namespace if cfg is not None else True
