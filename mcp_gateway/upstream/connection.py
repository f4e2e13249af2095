"""One upstream MCP server: connect, list, watch health, reconnect with backoff.

`Upstream.run()` is a supervisor loop owned by the gateway's task group. It keeps one live
`mcp.Client`; calls made while it is down fail fast with `UpstreamUnavailable` rather than queue,
so one slow or dead server never holds up requests for the others.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar, cast

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.client.subscriptions import ListenNotSupportedError
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_gateway.config.models import HttpServer, ServerConfig, StdioServer
from mcp_gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from mcp_gateway.invocation import ProgressFn
from mcp_gateway.upstream.listing import Listing, fetch_listing
from mcp_gateway.upstream.oauth.credentials import UpstreamCredentials
from mcp_gateway.upstream.output_check import OutputCheck
from mcp_gateway.upstream.stateless_http import StatelessHttpCaller, StatelessTransportError, needs_param_headers
from mcp_gateway.upstream.stderr import StderrPump
from mcp_gateway.upstream.stdio_lane import StdioLane
from mcp_gateway.upstream.transports import build_client

__all__ = ["Upstream", "UpstreamRequestError", "UpstreamState", "UpstreamStatus"]

logger = logging.getLogger("mcp_gateway.upstream")

_LIST_CHANGED = (
    types.ToolListChangedNotification,
    types.PromptListChangedNotification,
    types.ResourceListChangedNotification,
)


class UpstreamState(StrEnum):
    """Where an upstream is in its life."""

    STARTING = "starting"
    READY = "ready"
    UNHEALTHY = "unhealthy"
    RECONNECTING = "reconnecting"
    NEEDS_LOGIN = "needs_login"
    """Waiting for an OAuth login (or a new one, after the grant was refused); see `auth` status."""
    STOPPED = "stopped"


_SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"

_ResultT = TypeVar("_ResultT", types.CallToolResult, types.GetPromptResult, types.ReadResourceResult)
_T = TypeVar("_T")


def _unstamped(result: _ResultT) -> _ResultT:
    """Drop the upstream's serverInfo stamp: downstream, the gateway is the server."""
    if result.meta and _SERVER_INFO_META in result.meta:
        meta = {k: v for k, v in result.meta.items() if k != _SERVER_INFO_META}
        return result.model_copy(update={"meta": meta or None})
    return result


class UpstreamRequestError(UpstreamError):
    """The upstream answered a request with a JSON-RPC error; `code` is passed on downstream."""

    def __init__(self, server: str, code: int, message: str, data: Any = None) -> None:
        self.code = code
        self.upstream_message = message
        self.data = data
        super().__init__(server, message)


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """A snapshot for `/api/servers` and `mcp-gateway status`."""

    name: str
    transport: str
    state: UpstreamState
    since: float
    last_error: str | None
    tool_count: int
    reconnects: int
    protocol_version: str | None
    server_name: str | None
    server_version: str | None


class Upstream:
    """Supervises the connection to one configured server."""

    def __init__(
        self,
        name: str,
        config: ServerConfig,
        *,
        on_listing: Callable[[str, Listing], None],
        inprocess: Server[Any] | MCPServer | None = None,
        credentials: UpstreamCredentials | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.credentials = credentials
        self._on_listing = on_listing
        self._inprocess = inprocess
        self._client: Client | None = None
        self._state = UpstreamState.STARTING
        self._since = time.time()
        self._last_error: str | None = None
        self._reconnects = 0
        self._listing = Listing()
        self._broken = anyio.Event()
        self._refresh_wanted = anyio.Event()
        self._state_changed = anyio.Event()
        self._stateless: StatelessHttpCaller | None = None
        self._stateless_ok: dict[str, bool] = {}
        self._lane: StdioLane | None = None
        self._output_check = OutputCheck()
        self.ready = anyio.Event()
        """Set once the first connection attempt finished, successfully or not."""

    # -- status ---------------------------------------------------------------------------------

    @property
    def state(self) -> UpstreamState:
        """The current state."""
        return self._state

    @property
    def listing(self) -> Listing:
        """The most recent listing (empty until the first connection)."""
        return self._listing

    def status(self) -> UpstreamStatus:
        """A snapshot of this upstream's health."""
        client = self._client
        info = client.server_info if client is not None else None
        return UpstreamStatus(
            name=self.name,
            transport=self.config.transport,
            state=self._state,
            since=self._since,
            last_error=self._last_error,
            tool_count=len(self._listing.tools),
            reconnects=self._reconnects,
            protocol_version=client.protocol_version if client is not None else None,
            server_name=info.name if info is not None else None,
            server_version=info.version if info is not None else None,
        )

    def _set_state(self, state: UpstreamState, error: str | None = None) -> None:
        if state is not self._state:
            logger.info("upstream %s: %s -> %s%s", self.name, self._state, state, f" ({error})" if error else "")
            self._state = state
            self._since = time.time()
            self._state_changed.set()
            self._state_changed = anyio.Event()
        if error is not None:
            self._last_error = error

    def mark_stopped(self) -> None:
        """Record that the gateway is stopping this upstream (removed or reconfigured)."""
        self._set_state(UpstreamState.STOPPED)
        self.ready.set()

    async def wait_for_state(self, *states: UpstreamState) -> UpstreamState:
        """Wait until the upstream is in one of `states` (callers bound the wait)."""
        while self._state not in states:
            await self._state_changed.wait()
        return self._state

    def _mark_broken(self, reason: str) -> None:
        if self._state is UpstreamState.READY:
            self._set_state(UpstreamState.UNHEALTHY, reason)
        self._broken.set()

    # -- supervisor -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        health = self.config.health
        attempt = 0
        while True:
            if self.credentials is not None and await self._await_credentials():
                attempt = 0  # a fresh login: connect at once
            try:
                await self._serve_one_connection()
                attempt = 0  # it was up; the next outage starts its backoff from the beginning
            except Exception as exc:  # any failure of one connection: log it, back off, retry
                reason = _describe(exc)
                if self.credentials is not None and self.credentials.last_error:
                    reason = f"{reason} ({self.credentials.last_error})"
                self._set_state(UpstreamState.RECONNECTING, reason)
                logger.debug("upstream %s connection failed", self.name, exc_info=True)
            finally:
                self._client = None
                self.ready.set()
            if self._state is not UpstreamState.RECONNECTING:
                self._set_state(UpstreamState.RECONNECTING)
            delay = min(health.backoff_max_s, health.backoff_initial_s * 2**attempt)
            delay *= random.uniform(0.5, 1.0)  # jitter: upstreams that died together don't return together
            attempt = min(attempt + 1, 30)
            self._reconnects += 1
            await anyio.sleep(delay)

    async def _await_credentials(self) -> bool:
        """Sit in `needs_login` until the credentials can authorize requests; True if it waited.

        Only this upstream waits: the others keep serving, and `/readyz` does not wait for it.
        """
        credentials = self.credentials
        assert credentials is not None
        await credentials.wait_loaded()
        waited = False
        while not credentials.is_ready():
            waited = True
            self._set_state(UpstreamState.NEEDS_LOGIN, credentials.last_error or "waiting for a login")
            self.ready.set()
            await credentials.wait_changed()
        return waited

    async def _watch_credentials(self) -> None:
        credentials = self.credentials
        if credentials is None:
            return
        while credentials.is_ready():
            await credentials.wait_changed()
        self._mark_broken(f"authorization lost: {credentials.last_error or 'login required'}")

    async def _serve_one_connection(self) -> None:
        self._broken = anyio.Event()
        # The deadline covers connecting and the first listing only. The scope encloses the whole
        # exit stack because the SDK's task groups must be exited inside the scope they started in.
        with anyio.CancelScope(deadline=anyio.current_time() + self.config.connect_timeout_s) as connecting:
            async with AsyncExitStack() as stack:
                pump = (
                    stack.enter_context(StderrPump(self.name, logger)) if isinstance(self.config, StdioServer) else None
                )
                lane = StdioLane() if isinstance(self.config, StdioServer) else None
                client = build_client(
                    self.config,
                    message_handler=self._on_message,
                    errlog=pump.writer if pump is not None else None,
                    inprocess=self._inprocess,
                    credentials=self.credentials,
                    stdio_lane=lane,
                )
                await stack.enter_async_context(client)
                self._listing = await fetch_listing(client)
                self._output_check = OutputCheck(self._listing.tools)
                if lane is not None:
                    lane.use_protocol(client.protocol_version)
                    self._lane = lane
                    stack.callback(self._drop_lane)
                if isinstance(self.config, HttpServer) and client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                    self._stateless = StatelessHttpCaller(
                        self.config.url,
                        self.config.headers,
                        protocol_version=client.protocol_version,
                        credentials=self.credentials,
                    )
                    stack.push_async_callback(self._drop_stateless)
                connecting.deadline = math.inf
                if pump is not None:
                    pump.close()  # the child holds its own copy; ours would keep the pump alive forever
                self._client = client
                self._set_state(UpstreamState.READY)
                self._on_listing(self.name, self._listing)
                self.ready.set()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._health_loop, client)
                    tg.start_soon(self._refresh_loop, client)
                    tg.start_soon(self._listen_loop, client)
                    tg.start_soon(self._watch_credentials)
                    await self._broken.wait()
                    tg.cancel_scope.cancel()
        if connecting.cancelled_caught:
            raise UpstreamTimeout(self.name, f"not connected within {self.config.connect_timeout_s:g} s")
        raise UpstreamUnavailable(self.name, self._last_error or "connection lost")

    def _drop_lane(self) -> None:
        self._lane = None

    async def _drop_stateless(self) -> None:
        caller, self._stateless = self._stateless, None
        if caller is not None:
            await caller.aclose()

    def _takes_stateless_path(self, tool: str) -> StatelessHttpCaller | None:
        """The lean caller when `tool` may use it (no `Mcp-Param-*` mirroring in its schema)."""
        caller = self._stateless
        if caller is None:
            return None
        allowed = self._stateless_ok.get(tool)
        if allowed is None:
            schema = next((t.input_schema for t in self._listing.tools if t.name == tool), None)
            allowed = self._stateless_ok[tool] = schema is not None and not needs_param_headers(schema)
        return caller if allowed else None

    async def _health_loop(self, client: Client) -> None:
        health = self.config.health
        failures = 0
        while True:
            await anyio.sleep(health.interval_s)
            try:
                with anyio.fail_after(health.timeout_s):
                    await client.list_tools(cache_mode="refresh")
                failures = 0
            except Exception as exc:  # a failed check of any kind counts against the server
                failures += 1
                logger.warning("upstream %s health check failed (%d): %s", self.name, failures, _describe(exc))
                if failures >= health.failures_before_unhealthy:
                    self._mark_broken(f"health check failed {failures} times: {_describe(exc)}")
                    return

    async def _refresh_loop(self, client: Client) -> None:
        while True:
            await self._refresh_wanted.wait()
            self._refresh_wanted = anyio.Event()
            try:
                with anyio.fail_after(self.config.connect_timeout_s):
                    self._listing = await fetch_listing(client)
            except Exception as exc:  # keep the old listing; the health loop decides about the link
                logger.warning("upstream %s: refreshing the listing failed: %s", self.name, _describe(exc))
                continue
            self._stateless_ok = {}
            self._output_check = OutputCheck(self._listing.tools)
            self._on_listing(self.name, self._listing)

    async def _listen_loop(self, client: Client) -> None:
        """On 2026-07-28 connections change notifications only arrive on a listen stream."""
        caps = client.server_capabilities
        tools = bool(caps.tools and caps.tools.list_changed)
        prompts = bool(caps.prompts and caps.prompts.list_changed)
        resources = bool(caps.resources and caps.resources.list_changed)
        if not (tools or prompts or resources):
            return
        try:
            async with client.listen(
                tools_list_changed=tools, prompts_list_changed=prompts, resources_list_changed=resources
            ) as subscription:
                async for _event in subscription:
                    self._refresh_wanted.set()
        except ListenNotSupportedError:
            return  # handshake-era connection: notifications come through _on_message instead
        except Exception as exc:  # a lost listen stream is not fatal; health checks watch the link
            logger.info("upstream %s: change subscription ended: %s", self.name, _describe(exc))

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, _LIST_CHANGED):
            self._refresh_wanted.set()
        elif isinstance(message, Exception):
            logger.warning("upstream %s transport error: %s", self.name, _describe(message))

    # -- requests -------------------------------------------------------------------------------

    def _live_client(self) -> Client:
        client = self._client
        if client is None or self._state is not UpstreamState.READY:
            detail = f"; last error: {self._last_error}" if self._last_error else ""
            raise UpstreamUnavailable(self.name, f"not available ({self._state}{detail})")
        return client

    async def _request(self, what: str, call: Callable[[Client], Awaitable[_T]]) -> _T:
        """Run one request on the live client; translate every failure into an `UpstreamError`."""
        client = self._live_client()
        timeout = self.config.timeout_s
        try:
            # asyncio's own timeout: half the cost of anyio.fail_after on this per-call path.
            async with asyncio.timeout(timeout):
                return await call(client)
        except TimeoutError as exc:
            raise UpstreamTimeout(self.name, f"no answer within {timeout:g} s") from exc
        except MCPError as exc:
            raise self._translate(exc) from exc
        except StatelessTransportError as exc:
            self._mark_broken(f"connection failed: {exc}")
            raise UpstreamUnavailable(self.name, "connection failed during the request; reconnecting") from exc
        except RuntimeError as exc:
            # The SDK client refuses results that break the tool's own output schema, and
            # input-required rounds the gateway cannot answer on the caller's behalf.
            raise UpstreamError(self.name, f"{what} returned an unusable result: {exc}") from exc

    async def call_tool(
        self, tool: str, arguments: dict[str, Any], *, progress: ProgressFn | None = None
    ) -> types.CallToolResult:
        """Call `tool` upstream (progress notifications are passed to `progress`).

        Without a progress callback, a stateless HTTP upstream is called with one plain POST
        (`StatelessHttpCaller`); if it asks for a re-list (`HEADER_MISMATCH`) the SDK client,
        which handles that, makes the call instead. A stdio upstream is called over its lane
        (`StdioLane`): one JSON line each way on the same process.
        """
        timeout = self.config.timeout_s
        lane = self._lane if progress is None else None
        if lane is not None:
            return _unstamped(await self._request(f"tool '{tool}'", self._checked(tool, lane.call_tool, arguments)))
        caller = self._takes_stateless_path(tool) if progress is None else None
        if caller is not None:
            try:
                return _unstamped(
                    await self._request(f"tool '{tool}'", self._checked(tool, caller.call_tool, arguments))
                )
            except UpstreamRequestError as exc:
                if exc.code != types.HEADER_MISMATCH:
                    raise
        result = await self._request(
            f"tool '{tool}'",
            lambda c: c.call_tool(tool, arguments, read_timeout_seconds=timeout, progress_callback=cast(Any, progress)),
        )
        return _unstamped(result)

    async def get_prompt(self, name: str, arguments: dict[str, str] | None) -> types.GetPromptResult:
        """Get a prompt from this upstream."""
        return _unstamped(await self._request(f"prompt '{name}'", lambda c: c.get_prompt(name, arguments)))

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        """Read a resource from this upstream."""
        return _unstamped(
            await self._request(f"resource '{uri}'", lambda c: c.read_resource(uri, cache_mode="refresh"))
        )

    async def complete(
        self,
        ref: types.PromptReference | types.ResourceTemplateReference,
        argument: dict[str, str],
        context: dict[str, str] | None,
    ) -> types.CompleteResult:
        """Ask this upstream to complete a prompt or resource-template argument."""
        return await self._request("completion", lambda c: c.complete(ref, argument, context))

    def _checked(
        self,
        tool: str,
        call: Callable[[str, dict[str, Any]], Awaitable[types.CallToolResult]],
        arguments: dict[str, Any],
    ) -> Callable[[Client], Awaitable[types.CallToolResult]]:
        """A lean call whose result is checked against the tool's output schema, as the SDK's are."""
        check = self._output_check

        async def checked(client: Client) -> types.CallToolResult:
            result = await call(tool, arguments)
            if not check.plainly_valid(tool, result):
                await client.session.validate_tool_result(tool, result)
            return result

        return checked

    def _translate(self, exc: MCPError) -> UpstreamError:
        if exc.code == types.CONNECTION_CLOSED:
            self._mark_broken(f"connection closed: {exc.message}")
            return UpstreamUnavailable(self.name, "connection lost during the request; reconnecting")
        if exc.code == types.REQUEST_TIMEOUT:
            return UpstreamTimeout(self.name, exc.message)
        return UpstreamRequestError(self.name, exc.code, exc.message, exc.data)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
