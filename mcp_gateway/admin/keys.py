"""The keys admin API: `GET/POST /api/keys`, `POST /api/keys/{id}/revoke|disable|enable`.

Every route needs the admin credential (config `admin_key` or env `MCP_GATEWAY_ADMIN_KEY`), sent
like any key (`Authorization: Bearer` or `x-api-key`). A virtual key gets 403, anything else 401.
Every error is a JSON body of the shape `mcp_gateway.governance.payloads` defines.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_gateway.errors import PolicyError
from mcp_gateway.governance import (
    DuplicateKeyName,
    Governance,
    Identity,
    InvalidKeySpec,
    KeyEntry,
    KeyNotFound,
    KeyRecord,
    KeySpec,
    KeyStoreError,
    credential_from_headers,
    error_payload,
)

__all__ = ["key_routes", "require_admin"]


class _CreateKey(BaseModel):
    """Body of `POST /api/keys`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    team: str | None = None
    customer: str | None = None
    tool_groups: list[str] = Field(default_factory=list)
    allowed_tools: list[str] = Field(default_factory=list)
    blocked_tools: list[str] = Field(default_factory=list)
    description: str = ""


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "status": status, **extra}}, status_code=status)


def _policy_error(exc: PolicyError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="mcp-gateway-admin"'} if exc.status == 401 else None
    return JSONResponse(error_payload(exc), status_code=exc.status, headers=headers)


def _store_error(exc: KeyStoreError) -> JSONResponse:
    if isinstance(exc, KeyNotFound):
        return _error(404, "not_found", str(exc))
    if isinstance(exc, DuplicateKeyName):
        return _error(409, "conflict", str(exc))
    if isinstance(exc, InvalidKeySpec):
        return _error(422, "invalid_request", str(exc))
    return _error(409, "conflict", str(exc))


def _entry_json(entry: KeyEntry) -> dict[str, Any]:
    data = asdict(entry)
    data.pop("digest")
    data.pop("rules")
    data["id"] = data.pop("key_id")
    return data


def _record_json(record: KeyRecord) -> dict[str, Any]:
    data = asdict(record)
    data.pop("key_hash")
    data["status"] = record.status
    return data


def require_admin(governance: Governance, request: Request) -> Identity:
    """The admin identity of `request`; raises `PolicyError` (401/403) otherwise."""
    return governance.authenticate_admin(credential_from_headers(request.headers))


def key_routes(governance: Governance) -> list[Route]:
    """The keys admin routes; mount them on the app (they carry their `/api/keys` paths)."""

    async def list_or_create(request: Request) -> JSONResponse:
        try:
            require_admin(governance, request)
            if request.method == "GET":
                return JSONResponse({"keys": [_entry_json(e) for e in governance.list_keys()]})
            try:
                body = _CreateKey.model_validate_json(await request.body())
            except ValidationError as exc:
                problems = json.loads(exc.json(include_url=False, include_input=False))
                return _error(422, "invalid_request", "invalid key request", problems=problems)
            created = await governance.create_key(KeySpec(**{**body.model_dump(), **_tuples(body)}))
        except PolicyError as exc:
            return _policy_error(exc)
        except KeyStoreError as exc:
            return _store_error(exc)
        return JSONResponse({"key": created.plaintext, **_record_json(created.record)}, status_code=201)

    async def change(request: Request) -> JSONResponse:
        key_id = request.path_params["key_id"]
        action = request.path_params["action"]
        try:
            require_admin(governance, request)
            if action == "revoke":
                record = await governance.revoke_key(key_id)
            elif action in ("disable", "enable"):
                record = await governance.set_key_disabled(key_id, action == "disable")
            else:
                return _error(404, "not_found", f"unknown action {action!r}; use revoke, disable or enable")
        except PolicyError as exc:
            return _policy_error(exc)
        except KeyStoreError as exc:
            return _store_error(exc)
        return JSONResponse(_record_json(record))

    return [
        Route("/api/keys", list_or_create, methods=["GET", "POST"]),
        Route("/api/keys/{key_id}/{action}", change, methods=["POST"]),
    ]


def _tuples(body: _CreateKey) -> dict[str, tuple[str, ...]]:
    return {
        "tool_groups": tuple(body.tool_groups),
        "allowed_tools": tuple(body.allowed_tools),
        "blocked_tools": tuple(body.blocked_tools),
    }
