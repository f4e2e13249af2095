"""`mcp-gateway auth login <server>` and `mcp-gateway auth status`, against a running gateway.

`login` asks the gateway to start the flow (`POST /api/servers/<server>/auth/login`), prints the
authorization URL (and opens a browser where one exists), then polls
`GET /api/servers/<server>/auth` until the gateway holds a new token (exit 0), the login failed
(exit 1) or the wait ran out (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import webbrowser
from typing import Any

import httpx2

__all__ = ["register_auth_commands"]

_POLL_S = 1.0


class _ApiError(Exception):
    pass


def _call(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    url = args.gateway.rstrip("/") + path
    headers = {"Authorization": f"Bearer {args.admin_key}"} if args.admin_key else {}
    try:
        response = httpx2.request(method, url, headers=headers, json=body, timeout=30)
    except httpx2.HTTPError as exc:
        raise _ApiError(f"cannot reach the gateway at {url}: {exc}") from exc
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 400:
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        raise _ApiError(f"{url}: HTTP {response.status_code}: {message or response.text}")
    return data if isinstance(data, dict) else {}


def _cmd_login(args: argparse.Namespace) -> int:
    try:
        started = _call(args, "POST", f"/api/servers/{args.server}/auth/login", {})
    except _ApiError as exc:
        print(exc, file=sys.stderr)
        return 1
    url = started["authorization_url"]
    print(f"Open this URL to log in to '{args.server}':\n\n  {url}\n", flush=True)
    if not args.no_browser:
        with contextlib.suppress(webbrowser.Error):  # no browser here: the printed URL is the way
            webbrowser.open(url)
    print(f"Waiting for the login (up to {args.timeout:g} s) ...", flush=True)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            status = _call(args, "GET", f"/api/servers/{args.server}/auth")
        except _ApiError as exc:
            print(exc, file=sys.stderr)
            return 1
        if status.get("logins", 0) > started.get("logins", 0) and status.get("state") == "authorized":
            print(f"Logged in: the gateway holds a token for '{args.server}'.")
            return 0
        if status.get("login_failures", 0) > started.get("login_failures", 0):
            print(f"Login failed: {status.get('last_error')}", file=sys.stderr)
            return 1
        time.sleep(_POLL_S)
    print(f"Timed out after {args.timeout:g} s waiting for the login to '{args.server}'.", file=sys.stderr)
    return 1


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    left = ts - time.time()
    return f"in {left:.0f} s" if left >= 0 else f"{-left:.0f} s ago"


def _cmd_status(args: argparse.Namespace) -> int:
    try:
        servers = _call(args, "GET", "/api/servers")["servers"]
    except _ApiError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{'SERVER':<20} {'AUTH':<7} {'STATE':<13} {'EXPIRES':<14} LAST ERROR")
    for s in servers:
        auth = s.get("auth") or {}
        print(
            f"{s['name']:<20} {auth.get('type', '-'):<7} {auth.get('state', '-'):<13} "
            f"{_when(auth.get('expires_at')):<14} {auth.get('last_error') or ''}"
        )
    good = {"authorized", "configured"}
    return 0 if all((s.get("auth") or {}).get("state", "authorized") in good for s in servers) else 1


def register_auth_commands(sub: Any) -> None:
    """Add `auth login` and `auth status` to the `mcp-gateway` parser."""
    auth = sub.add_parser("auth", help="log the gateway in to OAuth-protected upstream servers")
    commands = auth.add_subparsers(dest="auth_command", required=True)
    login = commands.add_parser("login", help="log in to an upstream server through the running gateway")
    login.add_argument("server")
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the login (default 300)")
    login.add_argument("--no-browser", action="store_true", help="only print the URL")
    login.set_defaults(func=_cmd_login)
    status = commands.add_parser("status", help="list the upstream servers and their token state")
    status.set_defaults(func=_cmd_status)
    for parser in (login, status):
        parser.add_argument("--gateway", default=os.environ.get("MCP_GATEWAY_URL", "http://127.0.0.1:8080"))
        parser.add_argument(
            "--admin-key", default=os.environ.get("MCP_GATEWAY_ADMIN_KEY"), help="env MCP_GATEWAY_ADMIN_KEY"
        )
