"""Audit logging over the real `/mcp`: every call recorded, linked, redacted, searchable, streamed.

Records are read back through the admin API (`/api/logs`), after flushing the writer, so each
test checks what an operator would see.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.core.harness import RunningGateway, connect, running_gateway

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
VAULT = {"transport": "inprocess", "target": "tests.integration.secrets_server:mcp"}
ADMIN = "audit-admin"
CONFIG: dict[str, Any] = {
    "admin_key": ADMIN,
    "tool_groups": {"all": {"tools": ["demo.*", "vault.*", "coded.*"]}},
    "virtual_keys": {"dev": {"key": "dev-key", "tool_groups": ["all"]}},
    "logging": {"redact": {"names": ["ssn"], "rules": [{"tool": "vault.lookup", "fields": ["customer.card"]}]}},
}
DEV = {"Authorization": "Bearer dev-key"}
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


@asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[tuple[RunningGateway, httpx2.AsyncClient]]:
    servers = {"demo": DEMO, "vault": VAULT, "coded": {**DEMO, "code_mode": True}}
    async with (
        running_gateway(servers, **{**CONFIG, **overrides}) as gw,
        httpx2.AsyncClient(base_url=gw.url, headers=ADMIN_HEADERS, timeout=20) as http,
    ):
        yield gw, http


async def _flush(gw: RunningGateway) -> None:
    assert gw.state.audit is not None and gw.state.audit.obs.writer is not None
    with anyio.fail_after(10):
        await gw.state.audit.obs.writer.flush()


async def _logs(http: httpx2.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/api/logs", params=params)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


async def test_a_script_making_five_calls_gives_six_linked_records() -> None:
    code = "result = [coded.add(a=i, b=1) for i in range(5)]"
    async with gateway() as (gw, http), connect(gw, headers=DEV) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("executeToolCode", {"code": code})
        assert not result.is_error, result.content
        await _flush(gw)
        parents = await _logs(http, tool="executeToolCode")
        assert len(parents) == 1
        parent = parents[0]
        assert parent["status"] == "ok" and parent["key_name"] == "dev" and parent["mode"] == "direct"
        assert parent["arguments"] == {"code": code}
        detail = (await http.get(f"/api/logs/{parent['id']}")).json()
        children = detail["children"]
        assert [c["tool"] for c in children] == ["add"] * 5
        assert all(c["parent_id"] == parent["id"] and c["mode"] == "code" for c in children)
        assert [c["arguments"]["a"] for c in children] == [0, 1, 2, 3, 4]
        assert all(c["started_at"] >= parent["started_at"] and c["ended_at"] <= parent["ended_at"] for c in children)
        assert await _logs(http, parent_id=parent["id"]) == sorted(children, key=lambda c: c["id"], reverse=True)


async def test_records_carry_who_what_and_how_it_went() -> None:
    async with gateway() as (gw, http), connect(gw, headers=DEV) as client:
        with anyio.fail_after(20):
            await client.list_tools()
            assert not (await client.call_tool("demo__echo", {"text": "hi", "times": 2})).is_error
            assert (await client.call_tool("demo__fail", {"message": "boom"})).is_error
            with pytest.raises(Exception, match="Unknown tool"):
                await client.call_tool("demo__nope", {})
        await _flush(gw)
        ok = (await _logs(http, tool="echo"))[0]
        assert (ok["server"], ok["status"], ok["approval"], ok["client_name"]) == ("demo", "ok", "auto", "mcp")
        assert json.loads(ok["result"])["content"][0]["text"] == "hi hi"
        assert ok["result_size"] == len(ok["result"].encode()) and ok["latency_ms"] > 0
        failed = (await _logs(http, status="error", server="demo"))[0]
        assert failed["tool"] == "fail" and "boom" in failed["error"]
        refused = (await _logs(http, tool="demo__nope"))[0]
        assert refused["status"] == "error" and refused["error"] == "Unknown tool: demo__nope"
        listing = await _logs(http, kind="mcp_request", method="tools/list")
        assert len(listing) == 1 and listing[0]["key_name"] == "dev"
        assert {r["tool"] for r in await _logs(http, q="hi hi")} == {"echo"}


async def test_redaction_hides_secrets_in_arguments_and_results() -> None:
    async with gateway() as (gw, http), connect(gw, headers=DEV) as client:
        with anyio.fail_after(20):
            await client.call_tool("vault__login", {"user": "ann", "password": "hunter2", "note": "n"})
            await client.call_tool("vault__lookup", {"customer": {"name": "Bo", "card": "4111-1111"}})
        await _flush(gw)
        login = (await _logs(http, tool="login"))[0]
        lookup = (await _logs(http, tool="lookup"))[0]
        stored = json.dumps(login) + json.dumps(lookup)
        for secret in ("hunter2", "tok-2retnuh", "123-45-6789", "4111-1111"):
            assert secret not in stored, secret
        assert login["arguments"]["user"] == "ann" and login["arguments"]["note"] == "n"
        assert lookup["arguments"]["customer"]["name"] == "Bo"
        assert '"ann"' in login["result"]  # only the secrets are hidden
        assert await _logs(http, q="hunter2") == []


async def test_a_thousand_concurrent_calls_lose_no_record() -> None:
    async with gateway() as (gw, http):

        async def client_calls(n: int) -> None:
            async with connect(gw, headers=DEV) as client, anyio.create_task_group() as tg:
                for i in range(n):
                    tg.start_soon(client.call_tool, "demo__add", {"a": i, "b": 1})

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(client_calls, 250)
        await _flush(gw)
        seen: set[str] = set()
        cursor = None
        while True:
            params = {"tool": "add", "limit": 500, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/api/logs", params=params)).json()
            seen.update(r["id"] for r in page["records"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 1000
        assert gw.state.audit is not None and gw.state.audit.obs.writer is not None
        assert gw.state.audit.obs.writer.dropped == 0


async def test_the_live_stream_sends_matching_records() -> None:
    async with gateway() as (gw, _http), connect(gw, headers=DEV) as client:
        url = gw.url.replace("http://", "ws://") + "/api/logs/stream?tool=echo"
        async with ws_connect(url, additional_headers=ADMIN_HEADERS) as ws:
            with anyio.fail_after(20):
                await client.call_tool("demo__add", {"a": 1, "b": 1})
                await client.call_tool("demo__echo", {"text": "live"})
                message = json.loads(await ws.recv())
        assert message["tool"] == "echo" and message["arguments"] == {"text": "live"}
        with pytest.raises(Exception, match=r"1008|403|policy"):
            async with ws_connect(url, additional_headers=DEV) as denied:
                await denied.recv()


async def test_logs_api_needs_the_admin_key_and_names_bad_filters() -> None:
    async with gateway() as (_gw, http):
        assert (await http.get("/api/logs", headers=DEV)).status_code == 403
        bad = await http.get("/api/logs", params={"min_latency_ms": "fast"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "min_latency_ms"
        unknown = await http.get("/api/logs", params={"colour": "red"})
        assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["message"]
        assert (await http.get("/api/logs/NOPE")).status_code == 404


async def test_metrics_are_served_in_prometheus_format() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    async with gateway() as (gw, http), connect(gw, headers=DEV) as client:
        with anyio.fail_after(20):
            await client.call_tool("demo__add", {"a": 1, "b": 2})
            await client.call_tool("executeToolCode", {"code": "result = coded.add(a=1, b=2)"})
        assert (await http.get("/metrics", headers=DEV)).status_code == 403
        text = (await http.get("/metrics")).text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        calls = {
            (s.labels["server"], s.labels["tool"], s.labels["status"]): s.value
            for s in families["mcp_gateway_tool_calls"].samples
            if s.name.endswith("_total")
        }
        assert calls[("demo", "add", "ok")] == 1
        assert calls[("coded", "add", "ok")] == 1
        run_samples = families["mcp_gateway_sandbox_runs"].samples
        runs = {s.labels["outcome"]: s.value for s in run_samples if s.name.endswith("_total")}
        assert runs["ok"] == 1
        assert "mcp_gateway_tool_call_duration_seconds" in families
        assert "mcp_gateway_approvals_pending" in text and "mcp_gateway_log_records_dropped" in text
