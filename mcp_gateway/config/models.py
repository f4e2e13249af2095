"""Pydantic models of the gateway's YAML configuration.

The top level holds `gateway` (listener and security settings), `code_mode`, `servers`, and the
governance sections (`tool_groups`, `customers`, `teams`, `virtual_keys`, `admin_key`) defined in
`mcp_gateway.config.governance`. `mcp-gateway schema` prints the JSON Schema of this model.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcp_gateway.config.approvals import ApprovalSettings
from mcp_gateway.config.auth import UpstreamAuthConfig
from mcp_gateway.config.governance import GovernanceSection
from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.config.oauth_server import OAuthServerSettings

__all__ = [
    "CodeModeSettings",
    "GatewayConfig",
    "GatewaySettings",
    "HealthSettings",
    "HttpServer",
    "InProcessServer",
    "SandboxSettings",
    "ServerConfig",
    "SseServer",
    "StdioServer",
]

SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(_[A-Za-z0-9-]+)*$")
"""Server names become namespaces (`<server>__<tool>`), so they may not contain `__`."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthSettings(_Model):
    """How the gateway watches an upstream and brings it back."""

    interval_s: float = Field(15.0, gt=0, description="Seconds between health checks.")
    timeout_s: float = Field(5.0, gt=0, description="A check slower than this counts as a failure.")
    failures_before_unhealthy: int = Field(2, ge=1, description="Consecutive failed checks before reconnecting.")
    backoff_initial_s: float = Field(0.25, gt=0, description="First reconnect delay; doubles each attempt.")
    backoff_max_s: float = Field(30.0, gt=0, description="Cap on the reconnect delay.")


class _ServerBase(_Model):
    enabled: bool = True
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout for calls to this server.")
    connect_timeout_s: float = Field(30.0, gt=0, description="Timeout for connecting and listing.")
    code_mode: bool | None = Field(
        None,
        description="Serve this server's tools through the Code Mode meta-tools; default from code_mode.",
    )
    binding: Literal["server", "tool"] | None = Field(
        None, description="Stub layout: one file per server or per tool; default from code_mode.binding."
    )
    namespace: bool = Field(
        True, description="Serve names as '<server>__<name>'; false serves them as the upstream names them."
    )
    health: HealthSettings = Field(default_factory=HealthSettings)


class StdioServer(_ServerBase):
    """An upstream started as a child process speaking MCP over stdin/stdout."""

    transport: Literal["stdio"]
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="Added to a minimal inherited environment.")
    cwd: str | None = None


class HttpServer(_ServerBase):
    """An upstream reached over Streamable HTTP (stateless 2026-07-28 or session-based 2025-11-25)."""

    transport: Literal["http"]
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    auth: UpstreamAuthConfig | None = Field(None, description="OAuth or a static bearer token; see docs/oauth.md.")
    protocol: Literal["auto", "legacy"] = Field(
        "auto", description="auto: probe server/discover, fall back to initialize. legacy: initialize only."
    )


class SseServer(_ServerBase):
    """An upstream on the legacy HTTP+SSE transport."""

    transport: Literal["sse"]
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    auth: UpstreamAuthConfig | None = Field(None, description="OAuth or a static bearer token; see docs/oauth.md.")


class InProcessServer(_ServerBase):
    """An MCP server object imported from `module:attribute` and served over in-memory streams."""

    transport: Literal["inprocess"]
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


ServerConfig = Annotated[StdioServer | HttpServer | SseServer | InProcessServer, Field(discriminator="transport")]


class SandboxSettings(_Model):
    """Limits and pool size of the Starlark sandbox that runs `executeToolCode` scripts."""

    engine: Literal["pyo3", "go"] = "pyo3"
    workers: int = Field(2, ge=1, le=64)
    timeout_s: float = Field(10.0, gt=0, le=600)
    max_steps: int = Field(5_000_000, ge=1000)
    max_tool_calls: int = Field(100, ge=0)
    max_output_bytes: int = Field(64 * 1024, ge=256)
    memory_mb: int = Field(256, ge=32)
    max_callstack: int = Field(100, ge=5)


class CodeModeSettings(_Model):
    """Defaults for Code Mode; servers override `enabled` (as `code_mode`) and `binding`."""

    enabled: bool = Field(False, description="Default for servers that do not set code_mode.")
    binding: Literal["server", "tool"] = "server"
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)


class GatewaySettings(_Model):
    """The listener and its protections."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    api_key: str | None = Field(
        None,
        description="Single-key mode: this key grants every tool. Ignored once virtual_keys are configured.",
    )
    max_request_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    allowed_hosts: list[str] | None = Field(
        None, description="Host header allow-list against DNS rebinding; default: loopback names."
    )
    allowed_origins: list[str] | None = Field(None, description="Origin allow-list; default: loopback origins.")
    session_idle_timeout_s: float = Field(1800.0, gt=0)
    data_dir: str | None = Field(None, description="Where persistent state lives; see --data-dir.")
    oauth: OAuthServerSettings = Field(default_factory=OAuthServerSettings)


class GatewayConfig(GovernanceSection):
    """The whole configuration file."""

    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    code_mode: CodeModeSettings = Field(default_factory=CodeModeSettings)
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    servers: dict[str, ServerConfig] = Field(default_factory=dict)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @field_validator("servers")
    @classmethod
    def _server_names(cls, servers: dict[str, ServerConfig]) -> dict[str, ServerConfig]:
        for name in servers:
            if not SERVER_NAME.match(name) or len(name) > 32:
                raise ValueError(
                    f"server name {name!r} must start with a letter, use letters, digits, '-' and "
                    "single '_', "
                    "and be at most 32 characters (it becomes the tool namespace '<server>__<tool>')"
                )
        return servers
