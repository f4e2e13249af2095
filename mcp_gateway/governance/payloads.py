"""The facts of a `PolicyError` as JSON, for HTTP bodies, JSON-RPC error data and tool results.

One shape everywhere, so clients parse one thing:

    {"error": {"type": "rate_limit_exceeded", "message": "...", "status": 429,
               "level": "team", "name": "backend", "metric": "requests", "limit": 60,
               "used": 60, "period": "1m", "resets_at": "2025-01-01T00:01:00Z", "retry_after_s": 12}}
"""

from __future__ import annotations

from typing import Any

from mcp_gateway.errors import (
    ApprovalDenied,
    ApprovalTimeout,
    AuthenticationError,
    BudgetExceededError,
    ForbiddenError,
    PolicyError,
    RateLimitError,
)

__all__ = ["error_payload", "error_type", "retry_after"]

_TYPES: tuple[tuple[type[PolicyError], str], ...] = (
    (ApprovalDenied, "approval_denied"),
    (ApprovalTimeout, "approval_timeout"),
    (AuthenticationError, "authentication_error"),
    (ForbiddenError, "forbidden"),
    (RateLimitError, "rate_limit_exceeded"),
    (BudgetExceededError, "budget_exceeded"),
)


def error_type(exc: PolicyError) -> str:
    """A stable machine-readable name for the error's class."""
    for cls, name in _TYPES:
        if isinstance(exc, cls):
            return name
    return "policy_error"


def error_payload(exc: PolicyError) -> dict[str, Any]:
    """`{"error": {...}}` with the type, message, HTTP status and every detail of `exc`."""
    body: dict[str, Any] = {"type": error_type(exc), "message": str(exc), "status": exc.status}
    body.update({key: value for key, value in exc.details.items() if key not in body})
    return {"error": body}


def retry_after(exc: PolicyError) -> int | None:
    """Seconds for a `Retry-After` header (rate limits and budgets), else None."""
    value = exc.details.get("retry_after_s")
    return value if isinstance(value, int) else None
