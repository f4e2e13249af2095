"""`mcp-gateway`: serve, check, schema, status, reload, auth, keys.

Exit codes: 0 success, 1 runtime failure, 2 invalid configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp_gateway.admin.approvals_cli import register_approvals_commands
from mcp_gateway.admin.client import admin_request
from mcp_gateway.config import GatewayConfig, load_config, resolve_config_path
from mcp_gateway.errors import ConfigError
from mcp_gateway.governance.keys_cli import key_store_path, register_keys_commands
from mcp_gateway.upstream.oauth.cli import register_auth_commands

__all__ = ["main"]

EXIT_CONFIG = 2


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/mcp-gateway`, else `~/.local/share/mcp-gateway`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mcp-gateway"


def resolve_data_dir(flag: str | None, config: GatewayConfig) -> Path:
    """`--data-dir`, else `MCP_GATEWAY_DATA_DIR`, else `gateway.data_dir`, else the per-user default."""
    chosen = flag or os.environ.get("MCP_GATEWAY_DATA_DIR") or config.gateway.data_dir
    path = Path(chosen).expanduser() if chosen else default_data_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _load(args: argparse.Namespace) -> tuple[Path, GatewayConfig]:
    path = resolve_config_path(args.config)
    return path, load_config(path)


def _cmd_check(args: argparse.Namespace) -> int:
    path, config = _load(args)
    print(f"{path}: OK ({len(config.servers)} server(s): {', '.join(config.servers) or 'none'})")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(GatewayConfig.model_json_schema(), indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mcp_gateway.app import create_app

    path, config = _load(args)
    settings = config.gateway
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    config = config.model_copy(update={"gateway": settings.model_copy(update={"host": host, "port": port})})
    data_dir = resolve_data_dir(args.data_dir, config)
    logging.getLogger("mcp_gateway").info("config %s, data dir %s", path, data_dir)
    app = create_app(config, config_path=path, data_dir=data_dir)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=args.log_level.lower(),
        access_log=False,
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=10,
    )
    return 0


def _admin_get(args: argparse.Namespace, path: str, method: str = "GET") -> dict[str, Any] | None:
    """Call the running gateway's admin API; print the reason and return None on failure."""
    return admin_request(args.gateway, args.admin_key, path, method=method)


def _cmd_reload(args: argparse.Namespace) -> int:
    body = _admin_get(args, "/api/config/reload", method="POST")
    if body is None:
        return 1
    print("configuration reloaded")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    body = _admin_get(args, "/api/servers")
    if body is None:
        return 1
    servers = body["servers"]
    print(f"{'SERVER':<20} {'STATE':<13} {'TOOLS':>5}  LAST ERROR")
    for s in servers:
        print(f"{s['name']:<20} {s['state']:<13} {s['tool_count']:>5}  {s['last_error'] or ''}")
    return 0 if all(s["state"] == "ready" for s in servers) else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `mcp-gateway`."""
    parser = argparse.ArgumentParser(prog="mcp-gateway", description="An MCP gateway with Code Mode.")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("MCP_GATEWAY_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
    )
    sub = parser.add_subparsers(dest="command")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", "-c", help="YAML config (default: ./gateway.yaml, else the bundled example)")
        return p

    serve = with_config(sub.add_parser("serve", help="run the gateway"))
    serve.add_argument("--host", help="listen address (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default from config: 8080)")
    serve.add_argument("--data-dir", help="persistent state (env MCP_GATEWAY_DATA_DIR)")
    serve.set_defaults(func=_cmd_serve)
    with_config(sub.add_parser("check", help="validate a config file without starting")).set_defaults(func=_cmd_check)
    sub.add_parser("schema", help="print the config file's JSON Schema").set_defaults(func=_cmd_schema)
    for name, func, text in (
        ("status", _cmd_status, "show the upstream servers of a running gateway"),
        ("reload", _cmd_reload, "make a running gateway reload its config file"),
    ):
        remote = sub.add_parser(name, help=text)
        remote.add_argument("--gateway", default=os.environ.get("MCP_GATEWAY_URL", "http://127.0.0.1:8080"))
        remote.add_argument(
            "--admin-key", default=os.environ.get("MCP_GATEWAY_ADMIN_KEY"), help="env MCP_GATEWAY_ADMIN_KEY"
        )
        remote.set_defaults(func=func)
    register_approvals_commands(sub)
    register_auth_commands(sub)
    keys = register_keys_commands(sub, resolve=_keys_store)
    with_config(keys)
    keys.add_argument("--data-dir", help="persistent state (env MCP_GATEWAY_DATA_DIR)")
    return parser


def _keys_store(args: argparse.Namespace) -> tuple[GatewayConfig, Path]:
    """The config and key store file the `keys` commands work on (the same rules as `serve`)."""
    _, config = _load(args)
    return config, key_store_path(resolve_data_dir(args.data_dir, config))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mcp-gateway` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *(argv or sys.argv[1:])])
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One INFO line per upstream HTTP request drowns everything else; failures still log as warnings.
    for chatty in ("httpx2", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"invalid configuration:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    return code


if __name__ == "__main__":
    sys.exit(main())
