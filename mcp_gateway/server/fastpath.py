"""A pure-ASGI fast path for the commonest request: a stateless (2026-07-28) `tools/call`.

The SDK's server pipeline (request classification, a dispatch context, result validation against
the protocol version's schema, an SSE deferral window) costs about 2 ms of CPU per call. For a
`tools/call` that carries no progress token and no `Mcp-Param-*` headers none of it changes the
answer, so this middleware reads such a request itself, runs it through the same
`run_tool_call` the SDK path uses, and writes the JSON-RPC reply.

Anything else, or anything it is unsure about (a malformed body, a header that disagrees with
the body, an oversized body), goes to the SDK path untouched, with the body replayed, so the
SDK's own checks produce the errors the spec asks for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_gateway.governance.identity import Identity
from mcp_gateway.server.handlers import IDENTITY_SCOPE_KEY
from mcp_gateway.wire_json import dumps

__all__ = ["StatelessToolCalls"]

logger = logging.getLogger("mcp_gateway.server")

RunToolCall = Callable[..., Awaitable[types.CallToolResult]]
_MODERN = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)
_SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
_CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"
_PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_DISCONNECTED = "the client disconnected"
_WATCH_AFTER_S = 0.02  # see StatelessToolCalls._serve
_MEMO_SIZE = 1024  # entries per memo; cleared when full (values repeat, so it refills at once)


class StatelessToolCalls:
    """Serves eligible stateless `tools/call` POSTs; hands everything else to `app` (the SDK)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        run: RunToolCall,
        security: TransportSecuritySettings,
        max_body: int,
        server_info: Callable[[], dict[str, Any]],
    ) -> None:
        self.app = app
        self._run = run
        self._security = TransportSecurityMiddleware(security)
        self._max_body = max_body
        self._server_info = server_info
        self._clients: dict[bytes, types.Implementation] = {}
        self._checked: dict[tuple[bytes | None, ...], bool] = {}
        self._server_info_stamp: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _eligible_headers(scope["headers"]):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive, self._max_body)
        replay = _replaying(body, receive)
        request = _parse(body) if complete else None
        identity = scope.get(IDENTITY_SCOPE_KEY)
        if request is None or not isinstance(identity, Identity) or not _matches_headers(request, scope["headers"]):
            await self.app(scope, replay, send)
            return
        if not await self._secure(scope):
            await self.app(scope, replay, send)  # the SDK path answers with its own rejection
            return
        await self._serve(identity, request, replay, send)

    async def _serve(self, identity: Identity, request: dict[str, Any], receive: Receive, send: Send) -> None:
        params: dict[str, Any] = request["params"]
        meta = params.get("_meta") or {}
        client = self._client(meta.get(_CLIENT_INFO_META))
        request_id = request["id"]
        # A client that goes away cancels its call upstream, as on the SDK path: a watcher task
        # (plain asyncio; an anyio task group costs more) cancels this one on disconnect. Most
        # calls are over before anyone could notice, so the watcher starts only once the call
        # has run for `_WATCH_AFTER_S`, saving a task and the loop turns to start and cancel it
        # (about 15 us, measured in-process); a client that left earlier is seen at that moment.
        this = asyncio.current_task()
        assert this is not None
        loop = asyncio.get_running_loop()
        replying = False
        watch: asyncio.Task[None] | None = None

        def on_disconnect(done: asyncio.Task[None]) -> None:
            if not replying and not done.cancelled():
                this.cancel(_DISCONNECTED)

        def start_watch() -> None:
            nonlocal watch
            watch = loop.create_task(_until_disconnect(receive))
            watch.add_done_callback(on_disconnect)

        timer = loop.call_later(_WATCH_AFTER_S, start_watch)
        try:
            reply = await self._reply(identity, params, request_id, client)
        except asyncio.CancelledError:
            # Our own cancel, and no other pending (a shutdown, say): nobody is left to answer.
            disconnected = watch is not None and watch.done() and not watch.cancelled() and watch.exception() is None
            if disconnected and this.uncancel() == 0:
                return
            raise
        finally:
            replying = True
            timer.cancel()
            if watch is not None:
                watch.cancel()
        status = ERROR_CODE_HTTP_STATUS.get(reply["error"]["code"], 200) if "error" in reply else 200
        body = dumps(reply)
        headers = [*_JSON_HEADERS, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _secure(self, scope: Scope) -> bool:
        """The SDK's Host/Origin/Content-Type check, memoised on the three values it reads."""
        key = _first_values(scope["headers"], (b"host", b"origin", b"content-type"))
        passed = self._checked.get(key)
        if passed is None:
            passed = await self._security.validate_request(Request(scope), is_post=True) is None
            if len(self._checked) >= _MEMO_SIZE:
                self._checked.clear()
            self._checked[key] = passed
        return passed

    def _stamp(self) -> dict[str, Any]:
        # The SDK deep-copies its stamp on every read; it never changes, so read it once.
        if self._server_info_stamp is None:
            self._server_info_stamp = self._server_info()
        return self._server_info_stamp

    def _client(self, info: object) -> types.Implementation | None:
        """The caller's `clientInfo` as a model; memoised, since a client sends the same one each time."""
        if not isinstance(info, dict):
            return None
        key = dumps(info)
        client = self._clients.get(key)
        if client is None:
            client = types.Implementation.model_validate(info)
            if len(self._clients) >= _MEMO_SIZE:
                self._clients.clear()
            self._clients[key] = client
        return client

    async def _reply(
        self, identity: Identity, params: dict[str, Any], request_id: str | int, client: types.Implementation | None
    ) -> dict[str, Any]:
        """The JSON-RPC reply to one call: its result, or the error the SDK path would give."""
        try:
            result = await self._run(
                identity,
                params["name"],
                dict(params.get("arguments") or {}),
                request_id=str(request_id),
                client=client,
                progress=None,
            )
            return {"jsonrpc": "2.0", "id": request_id, "result": self._wire(result)}
        except MCPError as exc:
            return {"jsonrpc": "2.0", "id": request_id, "error": _error(exc)}
        except Exception:  # like the SDK: internals never reach the wire
            logger.exception("tools/call %s failed", params["name"])
            return {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {"code": types.INTERNAL_ERROR, "message": "Internal error"},
            }

    def _wire(self, result: types.CallToolResult) -> dict[str, Any]:
        """The result as the SDK would put it on a 2026-07-28 wire (`resultType`, `serverInfo` stamp)."""
        wire: dict[str, Any] = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        wire.setdefault("resultType", "complete")
        meta = wire.get("_meta")
        wire["_meta"] = {**(meta if isinstance(meta, dict) else {}), _SERVER_INFO_META: self._stamp()}
        return wire


async def _until_disconnect(receive: Receive) -> None:
    # Once the reply is sent the server reports a disconnect too, which also ends this.
    while (await receive())["type"] != "http.disconnect":
        pass


def _eligible_headers(headers: list[tuple[bytes, bytes]]) -> bool:
    method = version = None
    accept = content_type = b""
    for name, value in headers:
        if name == b"mcp-method":
            method = value
        elif name == b"mcp-protocol-version":
            version = value
        elif name == b"accept":
            accept = value
        elif name == b"content-type":
            content_type = value
        elif name.startswith(b"mcp-param-"):
            return False  # header-mirrored arguments: the SDK validates those
    accepts = b"*/*" in accept or (b"application/json" in accept and b"text/event-stream" in accept)
    return method == b"tools/call" and version in _MODERN and content_type.startswith(b"application/json") and accepts


def _first_values(headers: list[tuple[bytes, bytes]], names: tuple[bytes, ...]) -> tuple[bytes | None, ...]:
    """The first value of each of `names` (None where absent), as Starlette's `Headers.get` reads them."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in names and name not in found:
            found[name] = value
    return tuple(found.get(name) for name in names)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and whether it was read whole within `limit` (else the SDK answers 413)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out the already-read body first, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _parse(body: bytes) -> dict[str, Any] | None:
    """The request if it is a plain, well-formed `tools/call` without a progress token."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != "tools/call":
        return None
    request_id = message.get("id")
    params = message.get("params")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int) or not isinstance(params, dict):
        return None
    meta = params.get("_meta", {})
    arguments = params.get("arguments", {})
    if not isinstance(params.get("name"), str) or not isinstance(meta, dict) or not isinstance(arguments, dict):
        return None
    if "progressToken" in meta or set(params) - {"name", "arguments", "_meta"}:
        return None  # progress needs a stream; input responses and tasks need the SDK's machinery
    return message


def _matches_headers(request: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> bool:
    """Routing headers must appear once and agree with the body; otherwise the SDK rejects it."""
    names = [value for name, value in headers if name == b"mcp-name"]
    methods = [value for name, value in headers if name == b"mcp-method"]
    versions = [value for name, value in headers if name == b"mcp-protocol-version"]
    meta = request["params"].get("_meta", {})
    return (
        len(names) == len(methods) == len(versions) == 1
        and names[0] == request["params"]["name"].encode()
        and meta.get(_PROTOCOL_VERSION_META) == versions[0].decode()
    )


def _error(exc: MCPError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.data is not None:
        error["data"] = exc.data
    return error
