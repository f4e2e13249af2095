"""The fast path's eligibility rules and the stateless caller's reply parsing."""

from __future__ import annotations

import json

import pytest
from mcp.shared.exceptions import MCPError

from mcp_gateway.server.fastpath import _eligible_headers, _matches_headers, _parse
from mcp_gateway.upstream.stateless_http import _reply, needs_param_headers

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
HEADERS = [
    (b"content-type", b"application/json"),
    (b"accept", b"application/json, text/event-stream"),
    (b"mcp-protocol-version", b"2026-07-28"),
    (b"mcp-method", b"tools/call"),
    (b"mcp-name", b"demo__add"),
]


def _body(**params: object) -> bytes:
    base = {"name": "demo__add", "arguments": {"a": 1}, "_meta": META}
    return json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {**base, **params}}).encode()


def test_plain_stateless_call_is_eligible() -> None:
    assert _eligible_headers(HEADERS)
    request = _parse(_body())
    assert request is not None and _matches_headers(request, HEADERS)


@pytest.mark.parametrize(
    "headers",
    [
        [h for h in HEADERS if h[0] != b"mcp-protocol-version"],  # a handshake-era session request
        [*HEADERS[:3], (b"mcp-method", b"tools/list"), HEADERS[4]],
        [*HEADERS, (b"mcp-param-region", b"eu")],  # header-mirrored arguments: the SDK validates them
        [HEADERS[0], (b"accept", b"application/json"), *HEADERS[2:]],  # the SDK answers 406
    ],
)
def test_other_requests_go_to_the_sdk(headers: list[tuple[bytes, bytes]]) -> None:
    assert not _eligible_headers(headers)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        _body(_meta={**META, "progressToken": 1}),  # progress needs a stream
        _body(requestState="x"),  # input-required rounds need the SDK
        json.dumps({"jsonrpc": "2.0", "id": True, "method": "tools/call", "params": {"name": "x"}}).encode(),
    ],
)
def test_bodies_the_fast_path_leaves_alone(body: bytes) -> None:
    assert _parse(body) is None


def test_headers_must_agree_with_the_body() -> None:
    request = _parse(_body(name="demo__echo"))
    assert request is not None
    assert not _matches_headers(request, HEADERS)  # Mcp-Name says demo__add
    other_version = _parse(_body(_meta={"io.modelcontextprotocol/protocolVersion": "2099-01-01"}))
    assert other_version is not None and not _matches_headers(other_version, HEADERS)


def test_reply_from_an_event_stream_skips_notifications() -> None:
    stream = (
        'event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\r\n\r\n'
        'event: message\r\ndata: {"jsonrpc":"2.0","id":3,"result":{"content":[]}}\r\n\r\n'
    )
    assert _reply(200, "text/event-stream", stream, 3) == {"jsonrpc": "2.0", "id": 3, "result": {"content": []}}
    with pytest.raises(MCPError, match="ended without a reply"):
        _reply(200, "text/event-stream", stream, 4)


def test_reply_errors_name_the_http_status() -> None:
    with pytest.raises(MCPError, match="HTTP 502 without JSON"):
        _reply(502, "text/html", "<h1>Bad gateway</h1>", 1)


def test_param_header_schemas_are_detected() -> None:
    assert needs_param_headers({"properties": {"region": {"type": "string", "x-mcp-header": "Region"}}})
    assert not needs_param_headers({"properties": {"region": {"type": "string"}}})
