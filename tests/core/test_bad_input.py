"""Bad input gets a clear error, and the gateway keeps serving everyone else."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2

from tests.core.harness import KEY, RunningGateway, connect, running_gateway

DEMO = {"demo": {"transport": "inprocess", "target": "examples.demo_server:mcp"}}
MCP_HEADERS = {
    "Authorization": f"Bearer {KEY}",
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


def _rpc_body(response: httpx2.Response) -> dict[str, Any]:
    """A JSON-RPC message from a JSON or single-event SSE response."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        parsed: dict[str, Any] = json.loads(data[-1])
        return parsed
    body: dict[str, Any] = response.json()
    return body


async def _still_serving(gw: RunningGateway) -> None:
    async with connect(gw) as client:
        result = await client.call_tool("demo__add", {"a": 1, "b": 1})
        assert result.structured_content == {"result": 2.0}


async def test_credentials_are_required_with_json_errors() -> None:
    async with running_gateway(DEMO) as gw, httpx2.AsyncClient(base_url=gw.url) as http:
        with anyio.fail_after(10):
            missing = await http.post("/mcp", json=INIT, headers={"Accept": MCP_HEADERS["Accept"]})
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"].startswith("Bearer")
            assert missing.json()["error"]["message"].startswith("missing API key")

            wrong = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert wrong.json()["error"]["message"] == "invalid API key"

            two = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "x-api-key": "other"})
            assert two.status_code == 401
            assert "two different credentials" in two.json()["error"]["message"]

            via_x_api_key = {k: v for k, v in MCP_HEADERS.items() if k != "Authorization"} | {"x-api-key": KEY}
            ok = await http.post("/mcp", json=INIT, headers=via_x_api_key)
            assert ok.status_code == 200

            sse = await http.get("/sse")
            assert sse.status_code == 401
            await _still_serving(gw)


async def test_malformed_requests_get_jsonrpc_errors() -> None:
    async with running_gateway(DEMO) as gw, httpx2.AsyncClient(base_url=gw.url) as http:
        with anyio.fail_after(10):
            garbage = await http.post("/mcp", content=b"{not json", headers=MCP_HEADERS)
            assert garbage.status_code == 400
            assert _rpc_body(garbage)["error"]["code"] == -32700

            not_rpc = await http.post("/mcp", json={"hello": "world"}, headers=MCP_HEADERS)
            assert not_rpc.status_code == 400
            assert _rpc_body(not_rpc)["error"]["code"] in (-32600, -32602)

            init = await http.post("/mcp", json=INIT, headers=MCP_HEADERS)
            session = {"mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
            await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers=MCP_HEADERS | session,
            )
            unknown = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/frobnicate"},
                headers=MCP_HEADERS | session,
            )
            error = _rpc_body(unknown)["error"]
            assert error["code"] == -32601
            assert "tools/frobnicate" in error["message"]

            bad_params = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": 5}},
                headers=MCP_HEADERS | session,
            )
            assert _rpc_body(bad_params)["error"]["code"] == -32602

            unknown_tool = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "demo__nope"}},
                headers=MCP_HEADERS | session,
            )
            assert _rpc_body(unknown_tool)["error"] == {"code": -32602, "message": "Unknown tool: demo__nope"}
            await _still_serving(gw)


async def test_oversized_body_is_refused_with_413() -> None:
    async with (
        running_gateway(DEMO, gateway={"max_request_bytes": 4096}) as gw,
        httpx2.AsyncClient(base_url=gw.url) as http,
    ):
        with anyio.fail_after(10):
            big = dict(INIT, params={**INIT["params"], "padding": "x" * 10_000})  # type: ignore[dict-item]
            response = await http.post("/mcp", json=big, headers=MCP_HEADERS)
            assert response.status_code == 413
            assert "too large" in response.text.lower() or "exceeds" in response.text.lower()
            await _still_serving(gw)


async def test_dns_rebinding_host_is_refused() -> None:
    async with running_gateway(DEMO) as gw, httpx2.AsyncClient(base_url=gw.url) as http:
        with anyio.fail_after(10):
            evil = await http.post("/mcp", json=INIT, headers=MCP_HEADERS | {"Host": "evil.example:80"})
            assert evil.status_code in (403, 421)
            origin = await http.post("/mcp", json=INIT, headers=MCP_HEADERS | {"Origin": "http://evil.example"})
            assert origin.status_code == 403
            await _still_serving(gw)
