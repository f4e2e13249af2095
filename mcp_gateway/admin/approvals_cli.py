"""`mcp-gateway approvals list|show|approve|deny`: review held calls of a running gateway.

Authenticates with the admin key or a reviewer's virtual key (`--key`, env
`MCP_GATEWAY_REVIEWER_KEY`, else `MCP_GATEWAY_ADMIN_KEY`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from typing import Any

from mcp_gateway.admin.client import admin_request

__all__ = ["register_approvals_commands"]


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _line(held: dict[str, Any]) -> str:
    args = json.dumps(held["arguments"], sort_keys=True)
    args = args if len(args) <= 60 else args[:57] + "..."
    return f"{held['id']:<28} {held['status']:<9} {held['key_name']:<12} {held['exposed_name']:<28} {args}"


def _cmd_list(args: argparse.Namespace) -> int:
    body = admin_request(args.gateway, args.key, f"/api/approvals?status={args.status}&limit={args.limit}")
    if body is None:
        return 1
    held = body["approvals"]
    if not held:
        print(f"no {args.status if args.status != 'all' else ''} held calls".replace("  ", " "))
        return 0
    print(f"{'ID':<28} {'STATUS':<9} {'KEY':<12} {'TOOL':<28} ARGUMENTS")
    for item in held:
        print(_line(item))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    body = admin_request(args.gateway, args.key, f"/api/approvals/{args.id}")
    if body is None:
        return 1
    print(json.dumps(body, indent=2, sort_keys=True))
    return 0


def _cmd_decide(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {}
    if args.reason:
        payload["reason"] = args.reason
    if getattr(args, "arguments", None):
        try:
            payload["arguments"] = json.loads(args.arguments)
        except ValueError as exc:
            print(f"--arguments must be a JSON object: {exc}")
            return 2
    body = admin_request(args.gateway, args.key, f"/api/approvals/{args.id}/{args.action}", method="POST", body=payload)
    if body is None:
        return 1
    print(f"{body['id']}: {body['status']} by {body['reviewer']} at {_when(body['decided_at'])}")
    return 0


def register_approvals_commands(sub: Any) -> argparse.ArgumentParser:
    """Add `approvals` and its subcommands to the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser("approvals", help="review tool calls held for approval")
    parser.add_argument("--gateway", default=os.environ.get("MCP_GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--key",
        default=os.environ.get("MCP_GATEWAY_REVIEWER_KEY") or os.environ.get("MCP_GATEWAY_ADMIN_KEY"),
        help="admin key or a reviewer's key (env MCP_GATEWAY_REVIEWER_KEY, else MCP_GATEWAY_ADMIN_KEY)",
    )
    commands = parser.add_subparsers(dest="approvals_command", required=True)
    listing = commands.add_parser("list", help="list held calls (pending by default)")
    listing.add_argument(
        "--status", default="pending", choices=["pending", "approved", "denied", "timeout", "abandoned", "all"]
    )
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=_cmd_list)
    show = commands.add_parser("show", help="show one held call: arguments, script, calls so far")
    show.add_argument("id")
    show.set_defaults(func=_cmd_show)
    for action, text in (("approve", "run the held call"), ("deny", "refuse the held call")):
        decide = commands.add_parser(action, help=text)
        decide.add_argument("id")
        decide.add_argument("--reason", help="shown to the caller and kept in the record")
        if action == "approve":
            decide.add_argument("--arguments", help="JSON object that replaces the call's arguments")
        decide.set_defaults(func=_cmd_decide, action=action)
    return parser
