"""Configuration: pydantic models of the YAML file, `${ENV}` interpolation, errors with key paths."""

from mcp_gateway.config.loader import (
    bundled_config_path,
    load_config,
    parse_config,
    resolve_config_path,
)
from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.config.models import (
    CodeModeSettings,
    GatewayConfig,
    GatewaySettings,
    HealthSettings,
    HttpServer,
    InProcessServer,
    SandboxSettings,
    ServerConfig,
    SseServer,
    StdioServer,
)

__all__ = [
    "CodeModeSettings",
    "GatewayConfig",
    "GatewaySettings",
    "HealthSettings",
    "HttpServer",
    "InProcessServer",
    "LoggingSettings",
    "SandboxSettings",
    "ServerConfig",
    "SseServer",
    "StdioServer",
    "bundled_config_path",
    "load_config",
    "parse_config",
    "resolve_config_path",
]
