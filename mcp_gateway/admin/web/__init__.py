"""Server-rendered pages under `/ui/` for admins and reviewers (Jinja2 templates, one stylesheet).

`web_routes(WebSources(...))` returns every route; the app adds them in its lifespan, once
governance and the approval queue exist. See docs/web.md.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_gateway.admin.web.approvals_page import approval_page_routes
from mcp_gateway.admin.web.logs_pages import log_page_routes
from mcp_gateway.admin.web.render import static_file
from mcp_gateway.admin.web.sessions import WebSessions
from mcp_gateway.admin.web.site import PREFIX, Site, Viewer, WebSources
from mcp_gateway.admin.web.status_pages import status_page_routes

__all__ = ["Site", "Viewer", "WebSessions", "WebSources", "web_routes"]

_STATIC = {"web.css": "text/css; charset=utf-8", "web.js": "text/javascript; charset=utf-8"}


def _static_routes() -> list[Route]:
    contents = {name: static_file(name) for name in _STATIC}  # read once: they are small

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in contents:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            contents[name],
            media_type=_STATIC[name],
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return [Route(f"{PREFIX}/static/{{name}}", serve, methods=["GET"])]


def web_routes(sources: WebSources, sessions: WebSessions | None = None) -> list[Route]:
    """Every `/ui/` route over the running gateway's parts; `sessions` defaults to a fresh
    per-process store (its signing secret is drawn here)."""
    site = Site(sources, sessions)
    return [
        Route(PREFIX, site.home, methods=["GET"]),
        Route(f"{PREFIX}/", site.home, methods=["GET"]),
        Route(f"{PREFIX}/login", site.login, methods=["GET", "POST"]),
        Route(f"{PREFIX}/logout", site.logout, methods=["POST"]),
        *_static_routes(),
        *approval_page_routes(site),
        *status_page_routes(site),
        *(log_page_routes(site, sources.logs) if sources.logs is not None else []),
    ]
