"""A lean `tools/call` for stateless (2026-07-28) Streamable HTTP upstreams.

On that protocol a call is one self-contained POST: no session, the routing headers, and the
client's identity in `_meta`. Sending it on a pooled connection and reading the JSON (or SSE)
reply directly costs a fraction of the SDK client's per-call machinery. The SDK client stays in
charge of everything else (discovery, listings, health, change streams) and of calls this path
does not take: calls that want progress, and tools whose schemas mirror arguments into
`Mcp-Param-*` headers.

The POST goes through `http1.Http1Pool` rather than httpx2 (which the SDK uses) or aiohttp: it
costs a fraction of either's CPU per request (`python -m benchmarks.upstream_post_bench`,
figures in docs/performance.md).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from mcp_gateway.upstream.http1 import Http1Error, Http1Pool
from mcp_gateway.upstream.oauth.credentials import UpstreamCredentials
from mcp_gateway.wire_json import dumps

__all__ = ["StatelessHttpCaller", "StatelessTransportError", "needs_param_headers", "unstamped_result"]

_ACCEPT = "application/json, text/event-stream"
_SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"


class StatelessTransportError(Exception):
    """The POST got no HTTP answer (connection refused or reset, DNS, TLS)."""


def unstamped_result(result: object) -> dict[str, Any]:
    """A raw result without the upstream's serverInfo stamp (downstream, the gateway is the server).

    Dropped before validation, so the model is built once rather than built and copied.
    """
    if not isinstance(result, dict):
        return {}
    meta = result.get("_meta")
    if isinstance(meta, dict) and _SERVER_INFO_META in meta:
        meta = {k: v for k, v in meta.items() if k != _SERVER_INFO_META}
        result = {**result, "_meta": meta} if meta else {k: v for k, v in result.items() if k != "_meta"}
    return result


def needs_param_headers(schema: Mapping[str, Any]) -> bool:
    """True when a tool's input schema asks for arguments mirrored into `Mcp-Param-*` headers."""
    return "x-mcp-header" in json.dumps(schema)


class StatelessHttpCaller:
    """Posts `tools/call` requests to one upstream URL over a pooled HTTP client."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        protocol_version: str,
        credentials: UpstreamCredentials | None = None,
    ) -> None:
        self._credentials = credentials
        self._ids = itertools.count(1)
        self._meta = {
            "io.modelcontextprotocol/protocolVersion": protocol_version,
            "io.modelcontextprotocol/clientInfo": {"name": "mcp-gateway", "version": "0.1.0"},
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        self._pool = Http1Pool(
            url,
            {
                **{name.lower(): value for name, value in headers.items()},
                "accept": _ACCEPT,
                "content-type": "application/json",
                "mcp-protocol-version": protocol_version,
                "mcp-method": "tools/call",
            },
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._pool.aclose()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call `name`; raises `MCPError` for JSON-RPC errors, `StatelessTransportError` for lost links."""
        request_id = next(self._ids)
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments, "_meta": self._meta},
        }
        data = dumps(body)
        status, content_type, text = await self._post(data, name)
        if status == 401 and self._credentials is not None:
            raise StatelessTransportError("HTTP 401: the upstream refused the token")
        message = _reply(status, content_type, text, request_id)
        if "error" in message:
            error = message["error"]
            code = int(error.get("code", types.INTERNAL_ERROR))
            raise MCPError(code, str(error.get("message", "")), error.get("data"))
        return types.CallToolResult.model_validate(unstamped_result(message.get("result")))

    async def _post(self, data: bytes, name: str) -> tuple[int, str, str]:
        """POST once; with credentials, a 401 is answered by one refresh and one retry."""
        credentials = self._credentials
        for attempt in range(2):
            headers = {"mcp-name": name}
            sent = await credentials.current_authorization() if credentials is not None else None
            if sent is not None:
                headers["authorization"] = sent
            try:
                reply = await self._pool.post(data, headers)
            except Http1Error as exc:
                raise StatelessTransportError(str(exc)) from exc
            if reply.status != 401 or credentials is None or attempt or not await credentials.after_unauthorized(sent):
                break
        return reply.status, reply.headers.get("content-type", ""), reply.body.decode("utf-8", "replace")


def _reply(status: int, content_type: str, text: str, request_id: int) -> dict[str, Any]:
    """The JSON-RPC reply to `request_id`, from a JSON body or an SSE stream of events."""
    if content_type.startswith("text/event-stream"):
        for event in text.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip() for line in event.splitlines() if line.startswith("data:"))
            if not data:
                continue
            message = json.loads(data)
            if isinstance(message, dict) and message.get("id") == request_id:
                return message
        raise MCPError(types.INTERNAL_ERROR, f"the upstream's event stream ended without a reply (HTTP {status})")
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise MCPError(types.INTERNAL_ERROR, f"the upstream answered HTTP {status} without JSON") from exc
    if not isinstance(message, dict) or ("result" not in message and "error" not in message):
        raise MCPError(types.INTERNAL_ERROR, f"the upstream answered HTTP {status} without a reply")
    return message
