"""The approval queue page: pending held calls with their context, approve (optionally with edited
arguments) or deny them, and the recent decisions below.

Decisions go through `ApprovalQueue.decide`, exactly like `POST /api/approvals/{id}/approve|deny`,
so the same checks apply (reviewer groups, no reviewing one's own calls, one decision per call).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcp_gateway.admin.web.render import SECURITY_HEADERS, pretty_json
from mcp_gateway.admin.web.site import PREFIX, Site, Viewer
from mcp_gateway.approvals import AlreadyDecided
from mcp_gateway.errors import NotFoundError, PolicyError

__all__ = ["approval_page_routes", "parse_arguments"]

_HISTORY = 50


class ArgumentsError(ValueError):
    """Edited arguments that are not a JSON object; the message says where."""


def parse_arguments(text: str) -> dict[str, Any]:
    """The reviewer's edited arguments: a JSON object, or `ArgumentsError` naming line and column."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentsError(
            f"the arguments are not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    if not isinstance(value, dict):
        raise ArgumentsError(f"the arguments must be a JSON object ({{...}}), not {type(value).__name__}")
    return value


@dataclass
class _Drafts:
    """What a failed form sent, shown again on its card so nothing typed is lost."""

    errors: dict[str, str] = field(default_factory=dict)
    arguments: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    """By `<approval id>:<approve|deny>`: the reason typed into that form."""


def approval_page_routes(site: Site) -> list[Route]:
    """`GET /ui/approvals` and `POST /ui/approvals/{id}/approve|deny`."""

    async def render_queue(request: Request, viewer: Viewer, drafts: _Drafts, status: int = 200) -> Response:
        queue = site.sources.approvals()
        pending = await queue.list(viewer.identity, status="pending", limit=200)
        decided = [h for h in await queue.list(viewer.identity, status=None, limit=_HISTORY + 50) if not h.pending]
        notice = ""
        done_id, done_status = request.query_params.get("decided"), request.query_params.get("status")
        if done_id and done_status in ("approved", "denied"):
            notice = f"{done_id} {done_status}."
        shown = {h.id for h in pending}
        return site.render(
            request,
            viewer,
            "approvals.html",
            status,
            # errors about calls no longer on the page (decided meanwhile) go above the queue
            page_errors=[f"{held_id}: {message}" for held_id, message in drafts.errors.items() if held_id not in shown],
            pending=pending,
            decided=decided[:_HISTORY],
            drafts=drafts,
            notice=notice,
            default_arguments={h.id: pretty_json(h.arguments) for h in pending},
        )

    async def queue_page(request: Request, viewer: Viewer) -> Response:
        return await render_queue(request, viewer, _Drafts())

    async def decide(request: Request, viewer: Viewer) -> Response:
        approval_id, action = request.path_params["approval_id"], request.path_params["action"]
        if action not in ("approve", "deny"):
            return site.error(request, viewer, 404, f"Unknown action {action!r}; use approve or deny.")
        fields = await site.form(request, viewer)
        if fields is None:
            return site.error(request, viewer, 403, "The form was not sent by this session (CSRF token mismatch).")
        reason = fields.get("reason", "").strip() or None
        drafts = _Drafts(reasons={f"{approval_id}:{action}": fields.get("reason", "")})
        arguments: dict[str, Any] | None = None
        if action == "approve" and fields.get("arguments", "").strip():
            drafts.arguments[approval_id] = fields["arguments"]
            try:
                arguments = parse_arguments(fields["arguments"])
            except ArgumentsError as exc:
                drafts.errors[approval_id] = str(exc)
                return await render_queue(request, viewer, drafts, 422)
        try:
            held = await site.sources.approvals().decide(
                approval_id, approve=action == "approve", reviewer=viewer.identity, reason=reason, arguments=arguments
            )
        except NotFoundError:
            return site.error(request, viewer, 404, f"No held call {approval_id} that you may review.")
        except AlreadyDecided as exc:
            drafts.errors[approval_id] = str(exc)
            return await render_queue(request, viewer, drafts, 409)
        except PolicyError as exc:
            drafts.errors[approval_id] = str(exc)
            return await render_queue(request, viewer, drafts, exc.status)
        return RedirectResponse(
            f"{PREFIX}/approvals?decided={held.id}&status={held.status}", status_code=303, headers=SECURITY_HEADERS
        )

    return [
        Route(f"{PREFIX}/approvals", site.guard(queue_page, admin_only=False), methods=["GET"]),
        Route(f"{PREFIX}/approvals/{{approval_id}}/{{action}}", site.guard(decide, admin_only=False), methods=["POST"]),
    ]
