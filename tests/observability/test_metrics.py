"""`/metrics` in Prometheus text format with every series the gateway exposes, parsed back with
`prometheus_client.parser`, over a real ASGI app."""

from __future__ import annotations

from pathlib import Path

import httpx2
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import GatewayMetrics, LogWriter, metrics_app, metrics_route, open_log_store

from .conftest import make_records


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """{(sample name, labels): value} of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def L(**labels: str) -> frozenset[tuple[str, str]]:
    """A label set as `samples` keys it."""
    return frozenset(labels.items())


async def test_metrics_endpoint_serves_every_series(tmp_path: Path) -> None:
    store = await open_log_store(LoggingSettings(), tmp_path)
    writer = LogWriter(store, LoggingSettings(queue_size=3, retention=None))
    for record in make_records(5, seed=20):
        writer.submit(record)  # 3 queued, 2 dropped
    states = {"github": "ready", "db": "reconnecting"}
    pending = [4]
    metrics = GatewayMetrics(upstream_states=lambda: states)
    metrics.bind(approvals_pending=lambda: pending[0], writer=writer)
    metrics.tool_call("github", "create_issue", "ok", 0.012)
    metrics.tool_call("github", "create_issue", "ok", 0.2)
    metrics.tool_call("github", "create_issue", "error", 1.5)
    metrics.tool_call("db", "query", "timeout", 60.0)
    metrics.mcp_request("tools/list", "ok", 0.001)
    metrics.mcp_request("tools/call", "error", 0.002)
    metrics.sandbox_run("ok")
    metrics.sandbox_run("limit")
    metrics.sandbox_kill("timeout_s")
    metrics.approval_decided("approved")
    metrics.approval_decided("denied")

    app = Starlette(routes=[metrics_route(metrics)])
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gw") as http:
        response = await http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        got = samples(response.text)
        pending[0] = 1
        states["db"] = "ready"
        await writer.aclose()
        again = samples((await http.get("/metrics")).text)

    tool = {"server": "github", "tool": "create_issue"}
    assert got[("mcp_gateway_tool_calls_total", L(**tool, status="ok"))] == 2
    assert got[("mcp_gateway_tool_calls_total", L(**tool, status="error"))] == 1
    assert got[("mcp_gateway_tool_call_duration_seconds_count", L(**tool))] == 3
    assert got[("mcp_gateway_tool_call_duration_seconds_bucket", L(**tool, le="0.25"))] == 2
    assert got[("mcp_gateway_tool_call_duration_seconds_sum", L(**tool))] == 0.012 + 0.2 + 1.5
    assert got[("mcp_gateway_errors_total", L(source="tool_call"))] == 2
    assert got[("mcp_gateway_errors_total", L(source="mcp_request"))] == 1
    assert got[("mcp_gateway_mcp_requests_total", L(method="tools/list", status="ok"))] == 1
    assert got[("mcp_gateway_mcp_request_duration_seconds_count", L(method="tools/call"))] == 1
    assert got[("mcp_gateway_upstream_up", L(server="github"))] == 1
    assert got[("mcp_gateway_upstream_up", L(server="db"))] == 0
    assert got[("mcp_gateway_upstream_state", L(server="db", state="reconnecting"))] == 1
    assert got[("mcp_gateway_sandbox_runs_total", L(outcome="limit"))] == 1
    assert got[("mcp_gateway_sandbox_kills_total", L(reason="timeout_s"))] == 1
    assert got[("mcp_gateway_approvals_pending", L())] == 4
    assert got[("mcp_gateway_approvals_decided_total", L(decision="denied"))] == 1
    assert got[("mcp_gateway_log_records_written_total", L())] == 0
    assert got[("mcp_gateway_log_records_dropped_total", L(reason="queue_full"))] == 2
    assert got[("mcp_gateway_log_queue_depth", L())] == 3

    assert again[("mcp_gateway_approvals_pending", L())] == 1  # gauges are read at scrape time
    assert again[("mcp_gateway_upstream_up", L(server="db"))] == 1
    assert again[("mcp_gateway_log_records_written_total", L())] == 3
    assert again[("mcp_gateway_log_queue_depth", L())] == 0
    await store.aclose()


async def test_each_gateway_has_its_own_registry_and_a_bare_asgi_app() -> None:
    a, b = GatewayMetrics(), GatewayMetrics()  # no "duplicated timeseries" error
    a.tool_call("s", "t", "ok", 0.1)
    labels = {"server": "s", "tool": "t", "status": "ok"}
    assert REGISTRY.get_sample_value("mcp_gateway_tool_calls_total", labels) is None
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=metrics_app(b)), base_url="http://gw") as http:
        text = (await http.get("/metrics")).text
        assert (await http.post("/metrics")).status_code == 405
    assert "mcp_gateway_tool_calls_total" not in samples(text).__repr__()
    assert ("mcp_gateway_log_queue_depth", L()) not in samples(text)  # nothing bound: no such series
