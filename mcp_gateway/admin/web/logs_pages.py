"""The logs pages (admin only): a filter form over `LogQuery`, a page of records with a link to
the next page (cursor), and one record with its child calls (an `executeToolCode` call with the
tool calls its script made).

They read the same `LogStore` with the same `LogQuery` as `GET /api/logs` and `GET /api/logs/{id}`,
in process rather than over HTTP.
"""

from __future__ import annotations

import json
from typing import Any, get_args
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_gateway.admin.web.render import pretty_json
from mcp_gateway.admin.web.site import PREFIX, Site, Viewer
from mcp_gateway.observability import ApprovalDecision, CallMode, LogKind, LogQuery, LogQueryError, LogStatus, LogStore

__all__ = ["FILTER_FIELDS", "log_page_routes"]

FILTER_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("since", "Since (UTC ISO or epoch)", ()),
    ("until", "Until", ()),
    ("key", "Key (name or id)", ()),
    ("team", "Team", ()),
    ("customer", "Customer", ()),
    ("client", "Client", ()),
    ("server", "Server", ()),
    ("tool", "Tool", ()),
    ("kind", "Kind", get_args(LogKind)),
    ("method", "MCP method", ()),
    ("status", "Status", get_args(LogStatus)),
    ("mode", "Mode", get_args(CallMode)),
    ("approval", "Approval", get_args(ApprovalDecision)),
    ("error", "Error contains", ()),
    ("q", "Arguments or result contain", ()),
    ("parent_id", "Parent id", ()),
    ("min_latency_ms", "Latency ≥ (ms)", ()),
    ("max_latency_ms", "Latency ≤ (ms)", ()),
    ("min_cost", "Cost ≥", ()),
    ("max_cost", "Cost ≤", ()),
)
"""(query parameter, label, choices): the form's fields, in its order; choices make a select."""

_LIMITS = ("25", "50", "100", "200")


def _result_text(result: str | None) -> str:
    """A stored result (JSON text, maybe trimmed) indented when it parses, else as stored."""
    if result is None:
        return ""
    try:
        return pretty_json(json.loads(result))
    except ValueError:
        return result


def log_page_routes(site: Site, store: LogStore) -> list[Route]:
    """`GET /ui/logs` and `GET /ui/logs/{id}`."""

    async def logs_page(request: Request, viewer: Viewer) -> Response:
        values = {name: request.query_params.get(name, "") for name, _label, _choices in FILTER_FIELDS}
        limit = request.query_params.get("limit", "50")
        context: dict[str, Any] = {
            "fields": FILTER_FIELDS,
            "values": values,
            "limit": limit,
            "limits": _LIMITS,
            "records": [],
            "next_url": "",
            "first_url": "",
            "error": "",
            "filtered": any(values.values()),
        }
        try:
            query = LogQuery.from_params(request.query_params)
        except LogQueryError as exc:
            context["error"] = str(exc)
            return site.render(request, viewer, "logs.html", 400, **context)
        page = await store.query(query)
        context["records"] = page.records
        if page.next_cursor is not None:
            params = {**query.to_params(), "cursor": page.next_cursor}
            context["next_url"] = f"{PREFIX}/logs?{urlencode(params)}"
        context["first_url"] = (
            f"{PREFIX}/logs?{urlencode({k: v for k, v in query.to_params().items() if k != 'cursor'})}"
            if query.cursor is not None
            else ""
        )
        return site.render(request, viewer, "logs.html", **context)

    async def record_page(request: Request, viewer: Viewer) -> Response:
        log_id = request.path_params["log_id"]
        record = await store.get(log_id)
        if record is None:
            return site.error(request, viewer, 404, f"No log record {log_id!r}.")
        children = await store.children(log_id)
        return site.render(
            request, viewer, "log_record.html", record=record, children=children, result=_result_text(record.result)
        )

    return [
        Route(f"{PREFIX}/logs", site.guard(logs_page, admin_only=True), methods=["GET"]),
        Route(f"{PREFIX}/logs/{{log_id}}", site.guard(record_page, admin_only=True), methods=["GET"]),
    ]
