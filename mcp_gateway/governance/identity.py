"""Who is calling: the identity a credential resolves to, and the tool view it carries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_gateway.governance.limits import LimitScope
    from mcp_gateway.governance.views import ToolView

__all__ = ["ALLOW_ALL", "Identity", "ToolFilter"]

ToolFilter = Callable[[str, str], bool]
"""`(server, upstream tool name) -> allowed?`; precompiled when the config changes."""


def _allow_all(server: str, tool: str) -> bool:
    return True


ALLOW_ALL: ToolFilter = _allow_all


@dataclass(frozen=True, slots=True, eq=False)
class Identity:
    """The resolved caller of one request.

    `allows` is the caller's tool view as a predicate; it is computed when the configuration
    changes, never per request. `view_version` changes whenever the view may have changed, so
    callers can cache filtered listings per `(identity.key_name, view_version, catalog version)`.

    `key_id` is `config:<name>` or the key store's id; `groups` are the view's tool groups in
    precedence order (key's, team's, customer's); `view` answers per-tool policy questions;
    `limit_scopes` are the levels every request of this identity is charged to, and
    `group_limits` the per-key call limits of its rate-limited groups.
    """

    key_name: str
    team: str | None = None
    customer: str | None = None
    allows: ToolFilter = field(default=ALLOW_ALL, repr=False)
    view_version: int = 0
    is_admin: bool = False
    key_id: str | None = None
    groups: tuple[str, ...] = ()
    view: ToolView | None = field(default=None, repr=False)
    limit_scopes: tuple[LimitScope, ...] = field(default=(), repr=False)
    group_limits: Mapping[str, LimitScope] = field(default_factory=dict, repr=False)
    approval: str = "auto"
    """The key's own approval floor (`auto`, `review`, `deny`); group and tool rules may be stricter."""
    reviewer_for: frozenset[str] = frozenset()
    """Tool groups whose held calls this key may decide (`*`: all)."""

    def may_review(self, groups: Iterable[str]) -> bool:
        """Whether this caller may decide a held call granted by `groups`."""
        return self.is_admin or "*" in self.reviewer_for or not self.reviewer_for.isdisjoint(groups)
