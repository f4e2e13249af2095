"""Tool views: what one identity may see and call, and the policy for each tool in it.

A view is compiled when the configuration changes: the patterns of all its groups plus its extra
allowed tools become one `ToolMatcher`, its blocked tools another. `allows(server, tool)` is then
two matcher runs, memoised per `(server, tool)`, so the request path costs one dict lookup.
Identities with the same groups and tool lists share one `ToolView` (and its memo).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mcp_gateway.governance.limits import LimitRule
from mcp_gateway.governance.patterns import EMPTY_MATCHER, ToolMatcher, compile_patterns

__all__ = ["APPROVAL_ORDER", "CompiledGroup", "ToolPolicy", "ToolView", "full_view"]

APPROVAL_ORDER = ("auto", "review", "deny")
"""From least to most restrictive; when several groups grant a tool, the strictest wins."""

_MEMO_LIMIT = 65_536  # per view; bounds memory when callers probe many unknown names


@dataclass(frozen=True, slots=True)
class CompiledGroup:
    """A tool group ready for matching. `signature` captures its content for view sharing."""

    name: str
    patterns: tuple[str, ...]
    matcher: ToolMatcher
    code_mode: bool | None
    approval: str
    cost: float | None
    tool_costs: tuple[tuple[ToolMatcher, float], ...]  # most specific pattern first
    call_limit: LimitRule | None
    signature: Hashable

    def cost_of(self, server: str, tool: str) -> float | None:
        """The configured cost of one call of `(server, tool)` under this group, if any."""
        for matcher, cost in self.tool_costs:
            if matcher.matches(server, tool):
                return cost
        return self.cost


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    """How calls of one tool are governed for one view.

    `groups` grant the tool (key's groups first, then team's, then customer's); empty when only
    `allowed_tools` grants it. `approval` is the strictest of theirs, `code_mode` is True if any
    group says so, else False if any says so, else None (the server's setting), and `cost` is
    the highest configured cost (0 when none). `limited_groups` have a per-key call rate limit.
    """

    groups: tuple[str, ...] = ()
    approval: str = "auto"
    code_mode: bool | None = None
    cost: float = 0.0
    limited_groups: tuple[str, ...] = ()


class _NamedTool(Protocol):
    @property
    def server(self) -> str: ...

    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_NamedTool)


class ToolView:
    """A compiled view; `allows` is the hot path and never touches a store."""

    __slots__ = ("_allow_memo", "_blocked", "_grant", "_groups", "_policy_memo", "signature")

    def __init__(
        self,
        groups: Sequence[CompiledGroup],
        allowed_tools: Iterable[str] = (),
        blocked_tools: Iterable[str] = (),
    ) -> None:
        allowed = tuple(allowed_tools)
        blocked = tuple(blocked_tools)
        self._groups = tuple(groups)
        patterns = [p for group in self._groups for p in group.patterns] + list(allowed)
        self._grant = compile_patterns(patterns) if patterns else EMPTY_MATCHER
        self._blocked = compile_patterns(blocked) if blocked else EMPTY_MATCHER
        self._allow_memo: dict[tuple[str, str], bool] = {}
        self._policy_memo: dict[tuple[str, str], ToolPolicy | None] = {}
        self.signature = self.signature_of(self._groups, allowed, blocked)

    @staticmethod
    def signature_of(
        groups: Sequence[CompiledGroup], allowed_tools: Iterable[str], blocked_tools: Iterable[str]
    ) -> Hashable:
        """What makes two views equal; lets the builder reuse a view without compiling it."""
        return (
            tuple(group.signature for group in groups),
            frozenset(allowed_tools),
            frozenset(blocked_tools),
        )

    @property
    def groups(self) -> tuple[str, ...]:
        """Names of the groups this view is built from, in precedence order."""
        return tuple(group.name for group in self._groups)

    def allows(self, server: str, tool: str) -> bool:
        """True when `(server, tool)` is in the view. Deny by default: an empty view allows nothing."""
        key = (server, tool)
        hit = self._allow_memo.get(key)
        if hit is None:
            hit = self._grant.matches(server, tool) and not self._blocked.matches(server, tool)
            if len(self._allow_memo) >= _MEMO_LIMIT:
                self._allow_memo.clear()
            self._allow_memo[key] = hit
        return hit

    def groups_for(self, server: str, tool: str) -> tuple[str, ...]:
        """The groups granting `(server, tool)`; empty when it is outside the view or granted only
        through `allowed_tools`."""
        policy = self.policy_for(server, tool)
        return policy.groups if policy is not None else ()

    def policy_for(self, server: str, tool: str) -> ToolPolicy | None:
        """The policy of `(server, tool)`, or None when it is outside the view."""
        key = (server, tool)
        if key in self._policy_memo:
            return self._policy_memo[key]
        policy = self._compute_policy(server, tool) if self.allows(server, tool) else None
        if len(self._policy_memo) >= _MEMO_LIMIT:
            self._policy_memo.clear()
        self._policy_memo[key] = policy
        return policy

    def _compute_policy(self, server: str, tool: str) -> ToolPolicy:
        granting = [group for group in self._groups if group.matcher.matches(server, tool)]
        if not granting:
            return ToolPolicy()
        approval = max((g.approval for g in granting), key=APPROVAL_ORDER.index)
        modes = {g.code_mode for g in granting}
        code_mode = True if True in modes else (False if False in modes else None)
        costs = [c for c in (g.cost_of(server, tool) for g in granting) if c is not None]
        return ToolPolicy(
            groups=tuple(g.name for g in granting),
            approval=approval,
            code_mode=code_mode,
            cost=max(costs, default=0.0),
            limited_groups=tuple(g.name for g in granting if g.call_limit is not None),
        )

    def filter(self, tools: Iterable[T]) -> list[T]:
        """The items of `tools` (anything with `.server` and `.name`, e.g. `CatalogTool`) in the view."""
        allows = self.allows
        return [tool for tool in tools if allows(tool.server, tool.name)]


def full_view() -> ToolView:
    """Everything, for single-key and open mode."""
    return ToolView((), ("*.*",))
