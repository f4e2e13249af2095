"""Routes for upstream OAuth logins.

- `POST /api/servers/{name}/auth/login` (admin): start a login; answers the authorization URL.
- `GET /api/servers/{name}/auth` (admin): the server's auth state (never a token).
- `GET /oauth/callback`: where the authorization server sends the browser back. It needs no admin
  key: the one-time `state` it carries names a login an admin started, and nothing else passes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from mcp_gateway.errors import NotFoundError, PolicyError
from mcp_gateway.governance.payloads import error_payload
from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, OAuthError, TransientOAuthError
from mcp_gateway.upstream.oauth.manager import UpstreamAuth

__all__ = ["CALLBACK_PATH", "upstream_auth_routes"]

CALLBACK_PATH = "/oauth/callback"


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "status": status}}, status_code=status)


def _page(status: int, title: str, text: str) -> HTMLResponse:
    body = (
        "<!doctype html><meta charset=utf-8><title>mcp-gateway</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    )
    return HTMLResponse(body, status_code=status)


def upstream_auth_routes(auth: UpstreamAuth, *, require_admin: Callable[[Request], object]) -> list[Route]:
    """The login, status and callback routes over `auth`."""

    async def login(request: Request) -> JSONResponse:
        try:
            require_admin(request)
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        name = request.path_params["name"]
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "invalid_request", 'the body must be JSON: {"redirect_uri": ...} or empty')
        redirect_uri = body.get("redirect_uri") if isinstance(body, dict) else None
        if redirect_uri is not None and (not isinstance(redirect_uri, str) or not redirect_uri.startswith("http")):
            return _error(400, "invalid_request", "redirect_uri must be an http(s) URL")
        redirect_uri = redirect_uri or str(request.base_url).rstrip("/") + CALLBACK_PATH
        try:
            before = auth.session(name).status()
            pending = await auth.start_login(name, redirect_uri)
        except NotFoundError:
            return _error(404, "not_found", f"server {name!r} has no 'auth: {{type: oauth}}' in the config")
        except TransientOAuthError as exc:
            return _error(502, "upstream_unreachable", str(exc))
        except OAuthError as exc:
            return _error(502, "oauth_error", str(exc))
        return JSONResponse(
            {
                "server": name,
                "authorization_url": pending.authorization_url,
                "redirect_uri": pending.redirect_uri,
                "expires_at": pending.expires_at,
                "logins": before["logins"],
                "login_failures": auth.session(name).status()["login_failures"],
            }
        )

    async def status(request: Request) -> JSONResponse:
        try:
            require_admin(request)
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        name = request.path_params["name"]
        data = auth.status(name)
        if data is None:
            return _error(404, "not_found", f"server {name!r} has no 'auth:' block")
        return JSONResponse({"server": name, **data})

    async def callback(request: Request) -> HTMLResponse:
        params = request.query_params
        state = params.get("state")
        if not state:
            return _page(400, "Login failed", "The callback carries no state parameter.")
        try:
            server = await auth.finish_login(state, params.get("code"), params.get("iss"), params.get("error"))
        except TransientOAuthError as exc:
            return _page(502, "Login failed", f"{exc} (start the login again)")
        except DefinitiveOAuthError as exc:
            return _page(400, "Login failed", str(exc))
        return _page(200, "Logged in", f"The gateway now holds a token for '{server}'. You can close this window.")

    return [
        Route("/api/servers/{name}/auth/login", login, methods=["POST"]),
        Route("/api/servers/{name}/auth", status, methods=["GET"]),
        Route(CALLBACK_PATH, callback, methods=["GET"]),
    ]
