"""Who is calling: the identity a credential resolves to, and the tool view it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    """

    key_name: str
    team: str | None = None
    customer: str | None = None
    allows: ToolFilter = field(default=ALLOW_ALL, repr=False)
    view_version: int = 0
    is_admin: bool = False
