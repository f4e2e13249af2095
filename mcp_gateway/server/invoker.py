"""The one path every tool call takes, direct or from a Code Mode script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import mcp_types as types

from mcp_gateway.approvals import ApprovalQueue, Decision
from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.errors import ApprovalDenied, ApprovalTimeout, NotFoundError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.governance.views import ToolPolicy
from mcp_gateway.invocation import CallContext, CallMode, ProgressFn
from mcp_gateway.server.audit import Audit, CallOutcome
from mcp_gateway.upstream.connection import Upstream

__all__ = ["Admit", "Approved", "GatewayInvoker"]

Admit = Callable[[Identity, str, str], Awaitable[ToolPolicy]]
"""Charges one call of `(server, tool)` to the caller's limits and returns its policy; raises
`PolicyError` to refuse."""


@dataclass(frozen=True, slots=True)
class Approved:
    """How a call got past approval: `auto`, or a reviewer's decision (with what should run)."""

    approval: Literal["auto", "approved"]
    arguments: dict[str, Any]
    reviewer: str | None = None
    approval_id: str | None = None


class GatewayInvoker:
    """Checks the caller's view again at call time, charges its limits, holds the call for review
    where a policy says so, then calls the upstream.

    The view check is repeated here even though listings are already filtered: a Code Mode
    script or a stale client could name any tool, and the view may have changed since it listed.
    """

    def __init__(
        self,
        upstreams: Mapping[str, Upstream],
        admit: Callable[[], Admit],
        approvals: Callable[[], ApprovalQueue | None] = lambda: None,
        audit: Callable[[], Audit | None] = lambda: None,
    ) -> None:
        self._upstreams = upstreams
        self._admit = admit
        self._approvals = approvals
        self._audit = audit

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
        """Call `tool` for `ctx`'s caller; see `ToolInvoker.call_tool`. Every call is audited,
        refusals and failures included."""
        audit = self._audit()
        if audit is None:
            return await self._run(ctx, tool, arguments, mode, parent_id, progress, CallOutcome(), None)
        call = audit.begin(ctx, tool.server, tool.name, arguments, mode=mode, parent_id=parent_id)
        return await audit.record(
            call, self._run(ctx, tool, arguments, mode, parent_id, progress, call.outcome, call.log_id)
        )

    async def _run(  # noqa: PLR0917 - private; one call site per argument set
        self,
        ctx: CallContext,
        tool: CatalogTool,
        arguments: dict[str, Any],
        mode: CallMode,
        parent_id: str | None,
        progress: ProgressFn | None,
        outcome: CallOutcome,
        log_id: str | None,
    ) -> types.CallToolResult:
        if ctx.tools.get(tool.exposed_name) is not tool or not ctx.identity.allows(tool.server, tool.name):
            raise NotFoundError("tool", tool.exposed_name)
        upstream = self._upstreams.get(tool.server)
        if upstream is None:
            raise NotFoundError("tool", tool.exposed_name)
        policy = await self._admit()(ctx.identity, tool.server, tool.name)
        outcome.cost = policy.cost
        approved = await self.approve(
            ctx, tool, arguments, policy, mode=mode, parent_id=parent_id, progress=progress, log_id=log_id
        )
        outcome.approval, outcome.reviewer = approved.approval, approved.reviewer
        if approved.arguments is not arguments:
            outcome.ran_arguments = approved.arguments
        return await upstream.call_tool(tool.name, approved.arguments, progress=progress)

    async def approve(
        self,
        ctx: CallContext,
        tool: CatalogTool,
        arguments: dict[str, Any],
        policy: ToolPolicy,
        *,
        mode: CallMode,
        parent_id: str | None,
        progress: ProgressFn | None,
        log_id: str | None = None,
    ) -> Approved:
        """Pass, refuse (`ApprovalDenied`, `ApprovalTimeout`) or hold the call until a reviewer decides."""
        queue = self._approvals()
        if queue is None:
            return Approved("auto", arguments)
        required = queue.required(ctx.identity, policy.approval, tool.server, tool.name)
        if required == "auto":
            return Approved("auto", arguments)
        if required == "deny":
            raise ApprovalDenied(f"calls to {tool.exposed_name} are denied by policy", tool=tool.exposed_name)
        script = ctx.script
        held = queue.new(
            server=tool.server,
            tool=tool.name,
            exposed_name=tool.exposed_name,
            arguments=arguments,
            key_name=ctx.identity.key_name,
            key_id=ctx.identity.key_id,
            team=ctx.identity.team,
            customer=ctx.identity.customer,
            groups=policy.groups,
            mode=mode,
            parent_id=parent_id,
            log_id=log_id,
            client_name=ctx.client_name,
            script=script.code if script is not None else None,
            reachable=script.reachable if script is not None else (),
            # the script's own record of this call is the last one, still running
            calls_so_far=[dict(c) for c in script.calls if c.get("status") != "running"] if script else [],
        )
        with script.pause() if script is not None else nullcontext():
            decision = await queue.hold(held, progress=progress)
        if decision.status == "approved":
            return Approved("approved", decision.arguments or arguments, decision.reviewer, held.id)
        raise _refusal(tool.exposed_name, held.id, decision)


def _refusal(name: str, approval_id: str, decision: Decision) -> ApprovalDenied | ApprovalTimeout:
    details: dict[str, object] = {"tool": name, "approval_id": approval_id, "decision": decision.status}
    if decision.status == "denied":
        by = f" by {decision.reviewer}" if decision.reviewer else ""
        because = f": {decision.reason}" if decision.reason else ""
        return ApprovalDenied(f"the call to {name} was denied{by}{because}", reviewer=decision.reviewer, **details)
    return ApprovalTimeout(f"the call to {name} was held for review and not run: {decision.reason}", **details)
