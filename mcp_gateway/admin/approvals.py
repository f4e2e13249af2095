"""The approvals API: list held calls and decide them.

    GET  /api/approvals?status=pending|approved|denied|timeout|abandoned|all&limit=N
    GET  /api/approvals/{id}
    POST /api/approvals/{id}/approve   {"reason": "...", "arguments": {...}}   (both optional)
    POST /api/approvals/{id}/deny      {"reason": "..."}

Reviewers authenticate like any caller (`Authorization: Bearer` or `x-api-key`): the admin key
sees and decides everything; a virtual key with `reviewer_for` sees and decides the calls of
those tool groups only (a call it may not review answers 404, as if it did not exist).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_gateway.approvals import AlreadyDecided, ApprovalQueue
from mcp_gateway.errors import ForbiddenError, NotFoundError, PolicyError
from mcp_gateway.governance import Governance, Identity, credential_from_headers, error_payload

__all__ = ["approval_routes", "authenticate_reviewer"]

_STATUSES = ("pending", "approved", "denied", "timeout", "abandoned", "all")


class _DecisionBody(BaseModel):
    """Body of approve/deny; an empty body is fine."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    arguments: dict[str, Any] | None = None


def authenticate_reviewer(governance: Governance, credential: str | None) -> Identity:
    """The admin, or a virtual key with a reviewer role; `PolicyError` for anyone else."""
    try:
        return governance.authenticate_admin(credential)
    except PolicyError:
        pass
    identity = governance.authenticate(credential)
    if not identity.reviewer_for:
        raise ForbiddenError("this key is not a reviewer: give it 'reviewer_for' groups, or use the admin key")
    return identity


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "status": status, **extra}}, status_code=status)


def approval_routes(governance: Callable[[], Governance], queue: Callable[[], ApprovalQueue]) -> list[Route]:
    """The `/api/approvals` routes (getters: both parts are built in the lifespan)."""

    def reviewer(request: Request) -> Identity:
        return authenticate_reviewer(governance(), credential_from_headers(request.headers))

    async def list_held(request: Request) -> JSONResponse:
        status = request.query_params.get("status", "pending")
        if status not in _STATUSES:
            return _error(400, "invalid_request", f"status must be one of {', '.join(_STATUSES)}", param="status")
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            return _error(400, "invalid_request", "limit must be an integer", param="limit")
        try:
            who = reviewer(request)
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        found = await queue().list(who, status=None if status == "all" else status, limit=max(1, min(limit, 500)))
        return JSONResponse({"approvals": [h.to_dict() for h in found]})

    async def show(request: Request) -> JSONResponse:
        try:
            held = await queue().get(request.path_params["approval_id"], reviewer(request))
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        except NotFoundError as exc:
            return _error(404, "not_found", str(exc))
        return JSONResponse(held.to_dict())

    async def decide(request: Request) -> JSONResponse:
        action = request.path_params["action"]
        if action not in ("approve", "deny"):
            return _error(404, "not_found", f"unknown action {action!r}; use approve or deny")
        raw = await request.body()
        try:
            body = _DecisionBody.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            problems = json.loads(exc.json(include_url=False, include_input=False))
            return _error(422, "invalid_request", "invalid decision body", problems=problems)
        if action == "deny" and body.arguments is not None:
            return _error(422, "invalid_request", "only an approval can carry edited arguments")
        try:
            held = await queue().decide(
                request.path_params["approval_id"],
                approve=action == "approve",
                reviewer=reviewer(request),
                reason=body.reason,
                arguments=body.arguments,
            )
        except PolicyError as exc:
            return JSONResponse(error_payload(exc), status_code=exc.status)
        except NotFoundError as exc:
            return _error(404, "not_found", str(exc))
        except AlreadyDecided as exc:
            return _error(409, "conflict", str(exc))
        return JSONResponse(held.to_dict())

    return [
        Route("/api/approvals", list_held, methods=["GET"]),
        Route("/api/approvals/{approval_id}", show, methods=["GET"]),
        Route("/api/approvals/{approval_id}/{action}", decide, methods=["POST"]),
    ]
