"""Health and server-status routes: `/healthz`, `/readyz`, `/api/servers`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_gateway.upstream.connection import Upstream, UpstreamState

__all__ = ["server_status_routes"]


def _status_json(upstream: Upstream) -> dict[str, Any]:
    data = asdict(upstream.status())
    data["state"] = str(data["state"])
    return data


def server_status_routes(upstreams: Mapping[str, Upstream], *, is_started: Callable[[], bool]) -> list[Route]:
    """Routes that report on the gateway and its upstreams."""

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
        return JSONResponse({"servers": [_status_json(u) for u in upstreams.values()]})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/api/servers", servers, methods=["GET"]),
    ]
