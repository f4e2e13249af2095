"""Admin pages: upstream servers with their tools and auth state (and a button that starts an
upstream OAuth login), and read-only keys, teams, customers and groups.

Keys are listed from `Governance.list_keys()`, which never carries hashes or plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_gateway.admin.upstream_auth import CALLBACK_PATH
from mcp_gateway.admin.web.site import PREFIX, Site, Viewer
from mcp_gateway.config.governance import Budget, RateLimit
from mcp_gateway.errors import NotFoundError
from mcp_gateway.upstream.connection import UpstreamStatus
from mcp_gateway.upstream.oauth.errors import OAuthError

__all__ = ["status_page_routes"]


@dataclass(frozen=True)
class _ToolRow:
    name: str
    description: str


@dataclass(frozen=True)
class _ServerRow:
    status: UpstreamStatus
    tools: list[_ToolRow]
    auth: dict[str, Any] | None
    """`UpstreamAuth.status(name)` for servers with an `auth:` block (never a token), else None."""
    static_headers: bool


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _limits(rate_limits: list[RateLimit], budgets: list[Budget]) -> list[str]:
    shown = [
        " + ".join(
            part
            for part in (
                f"{limit.requests} req" if limit.requests is not None else "",
                f"{limit.tokens} tokens" if limit.tokens is not None else "",
            )
            if part
        )
        + f" / {limit.period}"
        for limit in rate_limits
    ]
    shown += [f"budget {budget.limit:g} / {budget.period}" for budget in budgets]
    return shown


def status_page_routes(site: Site) -> list[Route]:
    """`GET /ui/servers`, `POST /ui/servers/{name}/login` and `GET /ui/keys` (admin only)."""

    def render_servers(request: Request, viewer: Viewer, status: int = 200, **notices: str) -> Response:
        config, auth = site.sources.config(), site.sources.upstream_auth
        rows = [
            _ServerRow(
                status=upstream.status(),
                tools=[_ToolRow(t.name, _first_line(t.description)) for t in upstream.listing.tools],
                auth=auth.status(name) if auth is not None else None,
                static_headers=bool(getattr(config.servers.get(name), "headers", None)),
            )
            for name, upstream in site.sources.upstreams.items()
        ]
        context = {"login_url": "", "login_server": "", "error": "", **notices}
        return site.render(request, viewer, "servers.html", status, servers=rows, **context)

    async def servers_page(request: Request, viewer: Viewer) -> Response:
        return render_servers(request, viewer)

    async def start_login(request: Request, viewer: Viewer) -> Response:
        """Start an upstream OAuth login; the page links to the authorization server (a form
        cannot redirect there: the pages' CSP allows forms to post to the gateway only)."""
        name, auth = request.path_params["name"], site.sources.upstream_auth
        if await site.form(request, viewer) is None:
            return site.error(request, viewer, 403, "The form was not sent by this session (CSRF token mismatch).")
        if auth is None:
            return site.error(request, viewer, 404, "Upstream OAuth is not available on this gateway.")
        try:
            pending = await auth.start_login(name, str(request.base_url).rstrip("/") + CALLBACK_PATH)
        except NotFoundError:
            return render_servers(request, viewer, 404, error=f"Server {name!r} has no 'auth: {{type: oauth}}'.")
        except OAuthError as exc:
            return render_servers(request, viewer, 502, error=f"{name}: {exc}")
        return render_servers(request, viewer, login_url=pending.authorization_url, login_server=name)

    async def keys_page(request: Request, viewer: Viewer) -> Response:
        config = site.sources.config()
        members: dict[str, list[dict[str, Any]]] = {"teams": [], "customers": []}
        for name, team in config.teams.items():
            members["teams"].append(
                {
                    "name": name,
                    "customer": team.customer,
                    "groups": team.tool_groups,
                    "limits": _limits(team.all_rate_limits(), team.all_budgets()),
                    "description": team.description,
                }
            )
        for name, customer in config.customers.items():
            members["customers"].append(
                {
                    "name": name,
                    "groups": customer.tool_groups,
                    "limits": _limits(customer.all_rate_limits(), customer.all_budgets()),
                    "description": customer.description,
                }
            )
        return site.render(
            request,
            viewer,
            "keys.html",
            keys=site.sources.governance().list_keys(),
            teams=members["teams"],
            customers=members["customers"],
            groups=config.tool_groups,
            tool_rules=config.approvals.tools,
            mode=site.sources.governance().mode,
        )

    return [
        Route(f"{PREFIX}/servers", site.guard(servers_page, admin_only=True), methods=["GET"]),
        Route(f"{PREFIX}/servers/{{name}}/login", site.guard(start_login, admin_only=True), methods=["POST"]),
        Route(f"{PREFIX}/keys", site.guard(keys_page, admin_only=True), methods=["GET"]),
    ]
