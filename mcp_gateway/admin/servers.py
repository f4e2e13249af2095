"""Health, server-status and reload routes: `/healthz`, `/readyz`, `/api/servers`, `/api/config/reload`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_gateway.errors import ConfigError, PolicyError
from mcp_gateway.governance.payloads import error_payload
from mcp_gateway.upstream.connection import Upstream, UpstreamState

__all__ = ["RequireAdmin", "server_status_routes"]

RequireAdmin = Callable[[Request], object]
"""Raises `PolicyError` unless the request carries the admin credential."""

AuthStatus = Callable[[str], "dict[str, Any] | None"]
"""A server's `auth:` state (OAuth login, token expiry) for `/api/servers`; None without `auth:`."""


def _status_json(upstream: Upstream, auth_status: AuthStatus | None) -> dict[str, Any]:
    data = asdict(upstream.status())
    data["state"] = str(data["state"])
    data["auth"] = auth_status(upstream.name) if auth_status is not None else None
    return data


def _refused(exc: PolicyError) -> JSONResponse:
    return JSONResponse(error_payload(exc), status_code=exc.status)


def server_status_routes(
    upstreams: Mapping[str, Upstream],
    *,
    is_started: Callable[[], bool],
    require_admin: RequireAdmin,
    reload: Callable[[], Awaitable[object]] | None,
    auth_status: AuthStatus | None = None,
) -> list[Route]:
    """Routes that report on the gateway and its upstreams (the `/api` ones need the admin key)."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> JSONResponse:
        pending = [name for name, u in upstreams.items() if not u.ready.is_set()]
        ready = is_started() and not pending
        body: dict[str, Any] = {
            "status": "ready" if ready else "starting",
            "servers": {name: str(u.state) for name, u in upstreams.items()},
            "ready_servers": sum(u.state is UpstreamState.READY for u in upstreams.values()),
        }
        if pending:
            body["waiting_for"] = pending
        return JSONResponse(body, status_code=200 if ready else 503)

    async def servers(request: Request) -> JSONResponse:
        try:
            require_admin(request)
        except PolicyError as exc:
            return _refused(exc)
        return JSONResponse({"servers": [_status_json(u, auth_status) for u in upstreams.values()]})

    async def reload_config(request: Request) -> JSONResponse:
        try:
            require_admin(request)
        except PolicyError as exc:
            return _refused(exc)
        if reload is None:
            return JSONResponse(
                {"error": {"type": "not_reloadable", "message": "the gateway was not started from a config file"}},
                status_code=409,
            )
        try:
            await reload()
        except ConfigError as exc:
            problems = [{"path": path, "message": message} for path, message in exc.problems]
            body = {"type": "invalid_config", "message": str(exc), "source": exc.source, "problems": problems}
            return JSONResponse({"error": body}, status_code=422)
        return JSONResponse({"status": "reloaded"})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/api/servers", servers, methods=["GET"]),
        Route("/api/config/reload", reload_config, methods=["POST"]),
    ]
