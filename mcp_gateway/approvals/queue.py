"""The approval queue: which calls are held, holding them, and releasing them on a decision.

`ApprovalQueue.required(...)` answers `auto`, `review` or `deny` for one call: the strictest of
the tool's groups (`ToolPolicy.approval`), the key's own floor (`virtual_keys.<k>.approval`) and
the per-tool rules (`approvals.tools`). `hold(...)` stores a pending `HeldCall`, waits for a
reviewer (telling a caller that asked for progress that it is waiting), and returns the
`Decision`; it never runs the call itself. Decisions come from the API, the web page or the CLI
through `decide(...)`, which checks that the reviewer may decide calls of that tool's groups.

Waiters live in this process: a decision must reach the instance the caller is connected to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from mcp_gateway.approvals.model import Decision, HeldCall, new_approval_id
from mcp_gateway.approvals.store import ApprovalStore
from mcp_gateway.config.approvals import ApprovalSettings
from mcp_gateway.errors import ForbiddenError, GatewayError, NotFoundError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.governance.patterns import ToolMatcher, compile_patterns
from mcp_gateway.governance.views import APPROVAL_ORDER
from mcp_gateway.invocation import ProgressFn

__all__ = ["AlreadyDecided", "ApprovalQueue", "DecisionListener"]

log = logging.getLogger("mcp_gateway.approvals")

DecisionListener = Callable[[HeldCall], None]
"""Called with a held call whenever it is created or decided (metrics, live pages)."""


class AlreadyDecided(GatewayError):
    """A decision for a call that is no longer pending (HTTP 409)."""


@dataclass
class _Waiter:
    done: anyio.Event = field(default_factory=anyio.Event)
    decision: Decision | None = None


def _compile_rules(rules: Mapping[str, str]) -> list[tuple[ToolMatcher, str]]:
    return [(compile_patterns([pattern]), approval) for pattern, approval in rules.items()]


class ApprovalQueue:
    """Held calls of one gateway process; see the module docstring."""

    def __init__(self, store: ApprovalStore, settings: ApprovalSettings) -> None:
        self.store = store
        self._settings = settings
        self._rules = _compile_rules(settings.tools)
        self._waiters: dict[str, _Waiter] = {}
        self._held: dict[str, HeldCall] = {}
        self.listeners: list[DecisionListener] = []
        self._closed = False

    # -- policy -------------------------------------------------------------------------------

    def configure(self, settings: ApprovalSettings) -> None:
        """Apply reloaded settings; calls already held keep their deadline."""
        self._settings, self._rules = settings, _compile_rules(settings.tools)

    def required(self, identity: Identity, group_approval: str, server: str, tool: str) -> str:
        """`auto`, `review` or `deny` for this call: the strictest of groups, key and tool rules."""
        levels = [group_approval, identity.approval]
        levels += [approval for matcher, approval in self._rules if matcher.matches(server, tool)]
        return max(levels, key=APPROVAL_ORDER.index)

    # -- holding ------------------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        """Calls waiting for a decision in this process."""
        return len(self._waiters)

    async def start(self) -> int:
        """Mark calls left pending by a previous run as abandoned; returns how many."""
        count = await self.store.abandon_pending("the gateway restarted while the call was waiting", time.time())
        if count:
            log.warning("%d held call(s) from before the restart were marked abandoned", count)
        return count

    def new(self, **fields: Any) -> HeldCall:
        """A pending `HeldCall` with a fresh id and this queue's deadline."""
        now = time.time()
        return HeldCall(id=new_approval_id(), created_at=now, expires_at=now + self._settings.timeout_s, **fields)

    async def hold(self, held: HeldCall, *, progress: ProgressFn | None = None) -> Decision:
        """Store `held` as pending and wait for its decision, the timeout, or shutdown.

        If the caller goes away (the task is cancelled) the call is recorded as abandoned.
        """
        if self._closed:
            return Decision("abandoned", reason="the gateway is shutting down")
        waiter = _Waiter()
        self._waiters[held.id] = waiter
        self._held[held.id] = held
        try:
            await self.store.save(held)
            self._notify(held)
            deadline = held.expires_at or (time.time() + self._settings.timeout_s)
            await self._wait(held, waiter, deadline, progress)
        except BaseException:
            if waiter.decision is None:
                with anyio.CancelScope(shield=True):
                    await self._finish(held, Decision("abandoned", reason="the caller went away"))
            raise
        finally:
            self._waiters.pop(held.id, None)
            self._held.pop(held.id, None)
        decision = waiter.decision
        assert decision is not None
        return decision

    async def _wait(self, held: HeldCall, waiter: _Waiter, deadline: float, progress: ProgressFn | None) -> None:
        interval = self._settings.progress_interval_s
        waited = 0.0
        while waiter.decision is None:
            remaining = deadline - time.time()
            if remaining <= 0:
                reason = f"no reviewer decided within {self._settings.timeout_s:g} s"
                await self._finish(held, Decision("timeout", reason=reason))
                return
            if progress is not None:
                message = f"held for review as {held.id}; waiting for a reviewer ({remaining:.0f} s left)"
                await progress(waited, None, message)
            with anyio.move_on_after(min(interval, remaining)):
                await waiter.done.wait()
            waited += interval

    async def _finish(self, held: HeldCall, decision: Decision) -> HeldCall:
        """Record `decision` on `held`, wake its waiter, tell the listeners."""
        held.status = decision.status
        held.decided_at = time.time()
        held.reviewer, held.reason = decision.reviewer, decision.reason
        if decision.arguments is not None and decision.arguments != held.arguments:
            held.edited_arguments = decision.arguments
        waiter = self._waiters.get(held.id)
        if waiter is not None and waiter.decision is None:
            waiter.decision = decision
            waiter.done.set()
        await self.store.save(held)
        self._notify(held)
        return held

    # -- deciding -----------------------------------------------------------------------------

    async def decide(
        self,
        approval_id: str,
        *,
        approve: bool,
        reviewer: Identity,
        reason: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> HeldCall:
        """Approve or deny a pending call as `reviewer`; `arguments` replace the caller's.

        Raises `NotFoundError` (also for calls the reviewer may not see), `ForbiddenError`, or
        `AlreadyDecided`.
        """
        held = self._held.get(approval_id) or await self.store.get(approval_id)
        if held is None or not reviewer.may_review(held.groups):
            raise NotFoundError("approval", approval_id)
        if not held.pending:
            raise AlreadyDecided(f"approval {approval_id} is already {held.status}")
        if approval_id not in self._waiters:
            raise AlreadyDecided(f"approval {approval_id} has no waiting caller on this gateway")
        if reviewer.key_name == held.key_name and not reviewer.is_admin:
            raise ForbiddenError("a key cannot review its own calls")
        decision = Decision(
            "approved" if approve else "denied",
            reviewer=reviewer.key_name,
            reason=reason,
            arguments=arguments if approve else None,
        )
        return await self._finish(held, decision)

    async def get(self, approval_id: str, reviewer: Identity) -> HeldCall:
        """One held call, if `reviewer` may see it."""
        held = self._held.get(approval_id) or await self.store.get(approval_id)
        if held is None or not reviewer.may_review(held.groups):
            raise NotFoundError("approval", approval_id)
        return held

    async def list(self, reviewer: Identity, *, status: str | None = "pending", limit: int = 100) -> list[HeldCall]:
        """Held calls `reviewer` may decide, newest first."""
        if status == "pending":
            found = sorted(self._held.values(), key=lambda h: h.id, reverse=True)
        else:
            found = await self.store.list(status=status, limit=limit * 4)
        return [h for h in found if reviewer.may_review(h.groups)][:limit]

    async def aclose(self) -> None:
        """Release every waiting caller with a clear error (graceful shutdown)."""
        self._closed = True
        for held in list(self._held.values()):
            await self._finish(held, Decision("abandoned", reason="the gateway is shutting down"))

    def _notify(self, held: HeldCall) -> None:
        for listener in self.listeners:
            try:
                listener(held)
            except Exception:  # a broken listener must not break approvals
                log.exception("approval listener failed")
