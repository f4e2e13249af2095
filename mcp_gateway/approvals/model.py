"""A tool call held for review, and the decision that releases it."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Decision", "HeldCall", "HeldStatus", "new_approval_id"]

HeldStatus = Literal["pending", "approved", "denied", "timeout", "abandoned"]
"""`abandoned`: the caller went away, or the gateway stopped, before anyone decided."""

FINAL: frozenset[str] = frozenset({"approved", "denied", "timeout", "abandoned"})


def new_approval_id() -> str:
    """Short, unguessable, and sortable by creation time (the hex millisecond clock comes first)."""
    return f"apr_{int(time.time() * 1000):011x}{secrets.token_hex(6)}"


@dataclass(slots=True)
class HeldCall:
    """Everything a reviewer needs to decide one call, and what they decided.

    For a call made by a script (`mode == "code"`), `script` is the whole script, `reachable` the
    tools it references (known before it ran) and `calls_so_far` what it has already called.
    """

    id: str
    server: str
    tool: str
    exposed_name: str
    arguments: dict[str, Any]
    key_name: str
    key_id: str | None = None
    team: str | None = None
    customer: str | None = None
    groups: tuple[str, ...] = ()
    mode: Literal["direct", "code"] = "direct"
    log_id: str | None = None
    parent_id: str | None = None
    client_name: str | None = None
    script: str | None = None
    reachable: tuple[str, ...] = ()
    calls_so_far: list[dict[str, Any]] = field(default_factory=list)
    status: HeldStatus = "pending"
    created_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    decided_at: float | None = None
    reviewer: str | None = None
    reason: str | None = None
    edited_arguments: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        """Still waiting for a decision."""
        return self.status == "pending"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the API and the web page."""
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["reachable"] = list(self.reachable)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldCall:
        """The inverse of `to_dict` (stores keep held calls as JSON)."""
        values = dict(data)
        values["groups"] = tuple(values.get("groups") or ())
        values["reachable"] = tuple(values.get("reachable") or ())
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Decision:
    """How a held call ended. `arguments` are what should run (a reviewer may have edited them)."""

    status: HeldStatus
    reviewer: str | None = None
    reason: str | None = None
    arguments: dict[str, Any] | None = None
