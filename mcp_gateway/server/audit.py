"""Audit records and metrics for tool calls and MCP requests: built on the request path, written off it.

`Audit` turns what happened (a tool call's context, its result or exception, its approval) into
one `LogRecord` for the `LogWriter` (which batches and writes it later) and into metrics. The
gateway builds it in the lifespan; `GatewayInvoker` records every tool call it runs, direct or from
a script, `run_tool_call` records the meta-tool calls (the parent of a script's calls) and
tools/call requests refused before a tool was found, and `audit_middleware` records every other MCP
request (`tools/list`, `resources/read`, ...).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcp_gateway.approvals import HeldCall
from mcp_gateway.errors import (
    ApprovalDenied,
    ApprovalError,
    ApprovalTimeout,
    GatewayError,
    PolicyError,
    UpstreamTimeout,
)
from mcp_gateway.governance.identity import Identity
from mcp_gateway.invocation import CallContext, CallMode
from mcp_gateway.observability import GatewayMetrics, LogRecord, Observability, new_log_id
from mcp_gateway.observability.records import ApprovalDecision, LogStatus
from sandbox.api import RunResult

__all__ = ["Audit", "CallInFlight", "CallOutcome", "AuditMiddleware", "count_decisions", "count_sandbox_runs"]

logger = logging.getLogger("mcp_gateway.audit")

_ERROR_TEXT = 1000  # an error message is kept whole up to this many characters


@dataclass(slots=True)
class CallOutcome:
    """What the invoker learned while running a call, beyond its result."""

    approval: ApprovalDecision | None = None
    reviewer: str | None = None
    cost: float = 0.0
    ran_arguments: dict[str, Any] | None = None
    """Set when a reviewer edited the arguments: what actually ran."""


@dataclass(slots=True)
class CallInFlight:
    """A tool call being timed: what its record will say, filled in as the call goes."""

    log_id: str
    ctx: CallContext
    server: str | None
    tool: str
    arguments: dict[str, Any]
    mode: CallMode
    parent_id: str | None
    started: float
    t0: float
    outcome: CallOutcome = field(default_factory=CallOutcome)
    extra: dict[str, Any] = field(default_factory=dict)


def _status_of(error: BaseException) -> LogStatus:
    if isinstance(error, ApprovalTimeout | UpstreamTimeout):
        return "timeout"
    if isinstance(error, PolicyError):
        return "denied"
    return "error"


def _approval_of(error: BaseException) -> ApprovalDecision | None:
    if isinstance(error, ApprovalDenied):
        return "denied"
    if isinstance(error, ApprovalError):
        return "timeout"
    return None


def _error_text(result: types.CallToolResult) -> str:
    text = " ".join(c.text for c in result.content if isinstance(c, types.TextContent))
    return text[:_ERROR_TEXT] or "the tool reported an error"


class Audit:
    """Maps the gateway's calls (context, result or exception, approval) onto log records; the
    `Observability` it wraps redacts, trims, counts and queues them (the store write comes later)."""

    def __init__(self, obs: Observability) -> None:
        self.obs = obs
        self.metrics = obs.metrics

    def begin(
        self,
        ctx: CallContext,
        server: str | None,
        tool: str,
        arguments: dict[str, Any],
        *,
        mode: CallMode = "direct",
        parent_id: str | None = None,
    ) -> CallInFlight:
        """Start timing one tool call; `finish` records it."""
        return CallInFlight(
            log_id=new_log_id(),
            ctx=ctx,
            server=server,
            tool=tool,
            arguments=arguments,
            mode=mode,
            parent_id=parent_id,
            started=time.time(),
            t0=time.perf_counter(),
        )

    async def record(self, call: CallInFlight, running: Awaitable[types.CallToolResult]) -> types.CallToolResult:
        """Await the call and record how it ended, result or exception (which propagates).

        The record is built on the next turn of the event loop, with the latency measured now:
        the fast path writes its reply within this turn, so redacting and serialising the record
        stays off the caller's wait.
        """
        try:
            result = await running
        except BaseException as exc:
            self._finish_soon(call, None, exc)
            raise
        self._finish_soon(call, result, None)
        return result

    def _finish_soon(
        self, call: CallInFlight, result: types.CallToolResult | None, error: BaseException | None
    ) -> None:
        latency_s = time.perf_counter() - call.t0
        asyncio.get_running_loop().call_soon(self._finish_logged, call, result, error, latency_s)

    def _finish_logged(
        self, call: CallInFlight, result: types.CallToolResult | None, error: BaseException | None, latency_s: float
    ) -> None:
        try:
            self.finish(call, result=result, error=error, latency_s=latency_s)
        except Exception:  # a record that cannot be built must not take the loop's handler with it
            logger.exception("audit record for %s.%s failed", call.server, call.tool)

    def finish(
        self,
        call: CallInFlight,
        *,
        result: types.CallToolResult | None = None,
        error: BaseException | None = None,
        latency_s: float | None = None,
    ) -> None:
        """Record `call`: `result` when it returned, `error` when it raised; latency from now
        unless given."""
        if latency_s is None:
            latency_s = time.perf_counter() - call.t0
        outcome, server, tool = call.outcome, call.server, call.tool
        status: LogStatus = "ok"
        message: str | None = None
        approval, reviewer = outcome.approval, outcome.reviewer
        dumped: dict[str, Any] | None = None
        if result is not None:
            dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            if result.is_error:
                status, message = "error", _error_text(result)
        elif error is not None:
            status = _status_of(error)
            message = (str(error) if isinstance(error, GatewayError) else type(error).__name__)[:_ERROR_TEXT]
            approval = _approval_of(error) or approval
            if isinstance(error, ApprovalError):
                reviewer = _str_or_none(error.details.get("reviewer"))
        ran = outcome.ran_arguments
        details = dict(call.extra)
        if ran is not None:
            details["original_arguments"] = self.obs.redactor.redact(server, tool, call.arguments)
        identity, ctx = call.ctx.identity, call.ctx
        record = LogRecord(
            id=call.log_id,
            kind="tool_call",
            started_at=call.started,
            ended_at=call.started + latency_s,
            latency_ms=latency_s * 1000,
            status=status,
            parent_id=call.parent_id,
            key_id=identity.key_id,
            key_name=identity.key_name,
            team=identity.team,
            customer=identity.customer,
            client_name=ctx.client_name,
            client_version=ctx.client_version,
            method="tools/call",
            server=server,
            tool=tool,
            mode=call.mode,
            error=message,
            approval=approval,
            reviewer=reviewer,
            cost=outcome.cost,
            extra=details,
        )
        self.obs.finish(record, arguments=ran if ran is not None else call.arguments, result=dumped)

    def request(
        self,
        *,
        method: str,
        identity: Identity | None,
        client: types.Implementation | None,
        started: float,
        latency_s: float,
        error: BaseException | None,
        name: str | None = None,
    ) -> None:
        """Record one MCP request other than a tool call."""
        status: LogStatus = "ok" if error is None else _status_of(error)
        self.obs.finish(
            LogRecord(
                kind="mcp_request",
                started_at=started,
                ended_at=started + latency_s,
                latency_ms=latency_s * 1000,
                status=status,
                key_id=identity.key_id if identity is not None else None,
                key_name=identity.key_name if identity is not None else None,
                team=identity.team if identity is not None else None,
                customer=identity.customer if identity is not None else None,
                client_name=client.name if client is not None else None,
                client_version=client.version if client is not None else None,
                method=method,
                tool=name,
                error=(str(error) or type(error).__name__)[:_ERROR_TEXT] if error is not None else None,
            )
        )
        self.metrics.mcp_request(method, "ok" if error is None else "error", latency_s)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _request_name(params: Mapping[str, Any] | None) -> str | None:
    """The prompt name or resource URI a request is about, for the record."""
    if params is None:
        return None
    value = params.get("name") or params.get("uri")
    return str(value)[:500] if value is not None else None


class AuditMiddleware:
    """An SDK server middleware recording every request but `tools/call` (recorded per call)."""

    def __init__(
        self,
        audit: Callable[[], Audit | None],
        identity_of: Callable[[ServerRequestContext[Any, Any]], Identity | None],
    ) -> None:
        self._audit = audit
        self._identity_of = identity_of

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        audit = self._audit()
        if audit is None or ctx.method == "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        started, t0 = time.time(), time.perf_counter()
        error: BaseException | None = None
        try:
            return await call_next(ctx)
        except Exception as exc:
            error = exc
            raise
        finally:
            client = ctx.session.client_params if ctx.session is not None else None
            audit.request(
                method=ctx.method,
                identity=self._identity_of(ctx),
                client=client.client_info if client is not None else None,
                started=started,
                latency_s=time.perf_counter() - t0,
                error=error,
                name=_request_name(ctx.params),
            )


def count_sandbox_runs(metrics: GatewayMetrics) -> Callable[[RunResult], None]:
    """A Code Mode `on_run` hook: count each script run by outcome, and the workers it cost."""

    def counted(run: RunResult) -> None:
        metrics.sandbox_run(run.error.kind if run.error is not None else "ok")
        if run.stats.worker_killed:
            metrics.sandbox_kill(run.error.kind if run.error is not None else "unknown")

    return counted


def count_decisions(metrics: GatewayMetrics) -> Callable[[HeldCall], None]:
    """An approval-queue listener: count each held call once it is decided."""

    def counted(held: HeldCall) -> None:
        if not held.pending:
            metrics.approval_decided(held.status)

    return counted
