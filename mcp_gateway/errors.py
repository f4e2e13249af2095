"""The gateway's exception tree.

Every error the gateway raises on purpose derives from `GatewayError`; third-party errors are
translated at the boundary where they enter (`raise ... from exc`).

    GatewayError
    ├── ConfigError            bad configuration: names the file and the key path
    ├── UpstreamError          an upstream MCP server failed us
    │   ├── UpstreamUnavailable    not connected / unhealthy / reconnecting
    │   └── UpstreamTimeout        no answer within the server's timeout
    ├── NotFoundError          unknown tool, prompt or resource (or one outside the caller's view)
    ├── PolicyError            the caller may not do this
    │   ├── AuthenticationError    missing, unknown or revoked credential (HTTP 401)
    │   ├── ForbiddenError         disabled key, or an admin route with a virtual key (HTTP 403)
    │   ├── RateLimitError         over a request/token rate limit (HTTP 429)
    │   ├── BudgetExceededError    over a money budget (HTTP 402)
    │   └── ApprovalError          a call needing approval was not approved
    │       ├── ApprovalDenied         denied by policy or by a reviewer (HTTP 403)
    │       └── ApprovalTimeout        no decision within approvals.timeout_s (HTTP 408)
    └── SandboxError           Code Mode could not run a script (see `sandbox.errors` for the leaf)

Protocol errors (malformed JSON-RPC, unknown method) are JSON-RPC errors produced by the MCP SDK.
Tool-execution failures are `CallToolResult(is_error=True)` the model can read; they are not
exceptions once they cross the downstream boundary.
"""

from __future__ import annotations

__all__ = [
    "ApprovalDenied",
    "ApprovalError",
    "ApprovalTimeout",
    "AuthenticationError",
    "BudgetExceededError",
    "ConfigError",
    "ForbiddenError",
    "GatewayError",
    "NotFoundError",
    "PolicyError",
    "RateLimitError",
    "SandboxError",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid.

    `problems` holds one `(key_path, message)` pair per problem so the CLI can list them all.
    """

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {path}: {msg}" if path else f"{source}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


class UpstreamError(GatewayError):
    """An upstream MCP server failed."""

    def __init__(self, server: str, message: str) -> None:
        self.server = server
        super().__init__(f"upstream '{server}': {message}")


class UpstreamUnavailable(UpstreamError):
    """The upstream is not connected right now (starting, unhealthy or reconnecting)."""


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within its configured timeout."""


class NotFoundError(GatewayError):
    """No such tool, prompt or resource in the caller's view.

    Deliberately the same for "does not exist" and "exists but you may not see it", so that
    existence does not leak across keys.
    """

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"Unknown {kind}: {name}")


class PolicyError(GatewayError):
    """The caller is not allowed to do this. `status` is the HTTP status to answer with."""

    status = 403

    def __init__(self, message: str, **details: object) -> None:
        self.details = details
        super().__init__(message)


class AuthenticationError(PolicyError):
    """Missing, unknown or revoked credential."""

    status = 401


class ForbiddenError(PolicyError):
    """Known credential that may not do this (disabled key, admin route)."""

    status = 403


class RateLimitError(PolicyError):
    """A request or token rate limit is exhausted until the window resets."""

    status = 429


class BudgetExceededError(PolicyError):
    """A money budget is spent until its period resets."""

    status = 402


class ApprovalError(PolicyError):
    """A tool call that needs approval did not get it; the details name the call and the decision."""


class ApprovalDenied(ApprovalError):
    """Refused by an approval policy (`deny`) or by a reviewer."""

    status = 403


class ApprovalTimeout(ApprovalError):
    """Held for review, and nobody decided in time (or the gateway stopped while it waited)."""

    status = 408


class SandboxError(GatewayError):
    """Code Mode could not run a script at all (pool closed, worker could not start)."""
