"""The logs API: search records, read one with its child calls, follow new ones live.

    GET /api/logs?since=&until=&key=&team=&customer=&server=&tool=&status=&error=&min_latency_ms=
                 &max_latency_ms=&min_cost=&max_cost=&parent_id=&mode=&approval=&q=&kind=&method=
                 &client=&limit=&cursor=
    GET /api/logs/{id}            -> {"record": {...}, "children": [...]}
    WS  /api/logs/stream?<the same filters>   -> one JSON record per message; {"missed": N} when
                                                 the reader lagged and N records were skipped

Admin key only (logs hold every key's arguments); `/metrics` too. The WebSocket takes the key in the handshake's
`Authorization` or `x-api-key` header, never in the URL (URLs end up in proxies' logs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import anyio
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from mcp_gateway.errors import PolicyError
from mcp_gateway.governance import Governance, credential_from_headers, error_payload
from mcp_gateway.observability import GatewayMetrics, LogQuery, LogQueryError, LogStore, LogWriter, Missed

__all__ = ["log_routes", "metrics_routes"]

_POLICY_CLOSE = 1008  # WebSocket close code: policy violation


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "status": status, **extra}}, status_code=status)


def log_routes(
    governance: Callable[[], Governance], store: Callable[[], LogStore], writer: Callable[[], LogWriter]
) -> list[Route | WebSocketRoute]:
    """The `/api/logs` routes (getters: the parts are built in the lifespan)."""

    def require_admin(headers: Any) -> None:
        governance().authenticate_admin(credential_from_headers(headers))

    async def search(request: Request) -> JSONResponse:
        try:
            require_admin(request.headers)
            query = LogQuery.from_params(request.query_params)
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        except LogQueryError as exc:
            return _error(400, "invalid_request", str(exc), param=exc.param)
        page = await store().query(query)
        return JSONResponse({"records": [r.to_dict() for r in page.records], "next_cursor": page.next_cursor})

    async def show(request: Request) -> JSONResponse:
        try:
            require_admin(request.headers)
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        log_id = request.path_params["log_id"]
        record = await store().get(log_id)
        if record is None:
            return _error(404, "not_found", f"no log record {log_id!r}")
        children = await store().children(log_id)
        return JSONResponse({"record": record.to_dict(), "children": [c.to_dict() for c in children]})

    async def stream(websocket: WebSocket) -> None:
        try:
            require_admin(websocket.headers)
            query = LogQuery.from_params(websocket.query_params)
        except (PolicyError, LogQueryError) as exc:
            await websocket.close(code=_POLICY_CLOSE, reason=str(exc)[:120])
            return
        await websocket.accept()
        async with anyio.create_task_group() as tg:

            async def until_disconnect() -> None:
                # Without this a quiet stream would never notice the client leaving.
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(until_disconnect)
            async with writer().subscribe(query) as subscription:
                async for event in subscription:
                    if isinstance(event, Missed):
                        await websocket.send_json({"missed": event.count})
                    else:
                        await websocket.send_json(event.to_dict())
            tg.cancel_scope.cancel()  # the writer closed: the gateway is stopping
        with contextlib.suppress(RuntimeError):  # already closed by the client
            await websocket.close()

    return [
        Route("/api/logs", search, methods=["GET"]),
        WebSocketRoute("/api/logs/stream", stream),
        Route("/api/logs/{log_id}", show, methods=["GET"]),
    ]


def metrics_routes(governance: Callable[[], Governance], metrics: GatewayMetrics) -> list[Route]:
    """`GET /metrics` in Prometheus text format, for the admin key (series name servers and tools,
    which a virtual key must not learn). Prometheus sends it with `authorization: {credentials: ...}`."""

    async def scrape(request: Request) -> Response:
        try:
            governance().authenticate_admin(credential_from_headers(request.headers))
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"])]
