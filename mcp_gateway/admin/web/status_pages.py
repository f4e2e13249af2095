"""Read-only admin pages: upstream servers with their tools, and keys, teams, customers and groups.

Keys are listed from `Governance.list_keys()`, which never carries hashes or plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_gateway.admin.web.site import PREFIX, Site, Viewer
from mcp_gateway.config.governance import Budget, RateLimit
from mcp_gateway.upstream.connection import UpstreamStatus

__all__ = ["status_page_routes"]


@dataclass(frozen=True)
class _ToolRow:
    name: str
    description: str


@dataclass(frozen=True)
class _ServerRow:
    status: UpstreamStatus
    tools: list[_ToolRow]
    auth: str
    """Upstream authorization state. OAuth for upstreams is not built yet: this shows the
    configured transport's static headers only; the OAuth work fills it in (see docs/web.md)."""


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
    """`GET /ui/servers` and `GET /ui/keys` (admin only)."""

    async def servers_page(request: Request, viewer: Viewer) -> Response:
        config = site.sources.config()
        rows = []
        for name, upstream in site.sources.upstreams.items():
            server_config = config.servers.get(name)
            headers = getattr(server_config, "headers", None)
            rows.append(
                _ServerRow(
                    status=upstream.status(),
                    tools=[_ToolRow(t.name, _first_line(t.description)) for t in upstream.listing.tools],
                    auth="static headers" if headers else "none",
                )
            )
        return site.render(request, viewer, "servers.html", servers=rows)

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
        Route(f"{PREFIX}/keys", site.guard(keys_page, admin_only=True), methods=["GET"]),
    ]
