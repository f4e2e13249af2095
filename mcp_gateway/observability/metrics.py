"""Prometheus metrics of one gateway, in a registry of its own, served at `GET /metrics`.

| series | type | labels |
|---|---|---|
| `mcp_gateway_mcp_requests_total` | counter | method, status |
| `mcp_gateway_mcp_request_duration_seconds` | histogram | method |
| `mcp_gateway_tool_calls_total` | counter | server, tool, status |
| `mcp_gateway_tool_call_duration_seconds` | histogram | server, tool |
| `mcp_gateway_errors_total` | counter | source (`tool_call`, `mcp_request`, ...) |
| `mcp_gateway_upstream_up` | gauge | server (1 when `ready`) |
| `mcp_gateway_upstream_state` | gauge | server, state (1 for the current state) |
| `mcp_gateway_sandbox_runs_total` | counter | outcome |
| `mcp_gateway_sandbox_kills_total` | counter | reason |
| `mcp_gateway_approvals_pending` | gauge | |
| `mcp_gateway_approvals_decided_total` | counter | decision |
| `mcp_gateway_log_records_written_total` | counter | |
| `mcp_gateway_log_records_dropped_total` | counter | reason (`queue_full`, `write_failed`) |
| `mcp_gateway_log_queue_depth` | gauge | |

Gauges that mirror state owned elsewhere (upstream health, pending approvals, the log writer's
counters) are read from callables at scrape time, so nothing has to push them. The registry is
never the process-global default one: two gateways in one process (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["GatewayMetrics", "WriterCounters", "metrics_app", "metrics_route"]

# Tool calls span sub-millisecond cache hits to minute-long upstream work.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class WriterCounters(Protocol):
    """What the metrics read from the log writer (`LogWriter` has these)."""

    written: int
    dropped: int
    failed: int

    @property
    def queued(self) -> int:
        """Records waiting to be written."""
        ...


class _StateCollector(Collector):
    """Reads upstream health, pending approvals and the writer's counters at scrape time."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return []  # no collect() at registration: the callables may not be bound yet

    def collect(self) -> Iterable[Metric]:
        m = self._metrics
        if m.upstream_states is not None:
            up = GaugeMetricFamily("mcp_gateway_upstream_up", "1 if the upstream is ready, else 0.", labels=["server"])
            state = GaugeMetricFamily(
                "mcp_gateway_upstream_state", "1 for the upstream's current state.", labels=["server", "state"]
            )
            for server, value in sorted(m.upstream_states().items()):
                text = str(getattr(value, "value", value))
                up.add_metric([server], 1.0 if text == "ready" else 0.0)
                state.add_metric([server, text], 1.0)
            yield up
            yield state
        if m.approvals_pending is not None:
            yield GaugeMetricFamily(
                "mcp_gateway_approvals_pending", "Tool calls waiting for a reviewer.", value=m.approvals_pending()
            )
        if m.writer is not None:
            w = m.writer
            yield CounterMetricFamily("mcp_gateway_log_records_written", "Log records stored.", value=w.written)
            dropped = CounterMetricFamily(
                "mcp_gateway_log_records_dropped", "Log records lost, by reason.", labels=["reason"]
            )
            dropped.add_metric(["queue_full"], w.dropped)
            dropped.add_metric(["write_failed"], w.failed)
            yield dropped
            yield GaugeMetricFamily("mcp_gateway_log_queue_depth", "Log records waiting to be written.", value=w.queued)


class GatewayMetrics:
    """The gateway's metrics. Record with the methods; read state through bound callables.

    `upstream_states() -> {server: state}` (e.g. `UpstreamSet.states`), `approvals_pending() ->
    int` and `writer` (a `LogWriter`) may be passed here or bound later with `bind`.
    """

    def __init__(
        self,
        *,
        upstream_states: Callable[[], Mapping[str, Any]] | None = None,
        approvals_pending: Callable[[], int] | None = None,
        writer: WriterCounters | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.upstream_states = upstream_states
        self.approvals_pending = approvals_pending
        self.writer = writer
        r = self.registry
        self._mcp_requests = Counter(
            "mcp_gateway_mcp_requests", "MCP requests by JSON-RPC method.", ["method", "status"], registry=r
        )
        self._mcp_latency = Histogram(
            "mcp_gateway_mcp_request_duration_seconds", "MCP request latency.", ["method"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._tool_calls = Counter(
            "mcp_gateway_tool_calls", "Tool calls by server, tool and status.", ["server", "tool", "status"], registry=r
        )
        self._tool_latency = Histogram(
            "mcp_gateway_tool_call_duration_seconds", "Tool call latency, upstream included.", ["server", "tool"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._errors = Counter("mcp_gateway_errors", "Failed requests and tool calls.", ["source"], registry=r)
        self._sandbox_runs = Counter("mcp_gateway_sandbox_runs", "Code Mode script runs.", ["outcome"], registry=r)
        self._sandbox_kills = Counter(
            "mcp_gateway_sandbox_kills", "Sandbox workers killed (limits, crashes).", ["reason"], registry=r
        )
        self._approvals = Counter("mcp_gateway_approvals_decided", "Held tool calls decided.", ["decision"], registry=r)
        # labels() takes a lock and builds a tuple each time; the hot path reuses the children.
        self._call_children: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}
        self._request_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        r.register(_StateCollector(self))

    def bind(
        self,
        *,
        upstream_states: Callable[[], Mapping[str, Any]] | None = None,
        approvals_pending: Callable[[], int] | None = None,
        writer: WriterCounters | None = None,
    ) -> None:
        """Set the sources read at scrape time (those given; the others stay)."""
        if upstream_states is not None:
            self.upstream_states = upstream_states
        if approvals_pending is not None:
            self.approvals_pending = approvals_pending
        if writer is not None:
            self.writer = writer

    def tool_call(self, server: str, tool: str, status: str, latency_s: float) -> None:
        """Count one tool call (`status`: ok, error, denied, timeout) and observe its latency."""
        children = self._call_children.get((server, tool, status))
        if children is None:
            children = (
                self._tool_calls.labels(server, tool, status),
                self._tool_latency.labels(server, tool),
                self._errors.labels("tool_call") if status != "ok" else None,
            )
            self._call_children[(server, tool, status)] = children
        count, latency, errors = children
        count.inc()
        latency.observe(latency_s)
        if errors is not None:
            errors.inc()

    def mcp_request(self, method: str, status: str, latency_s: float) -> None:
        """Count one MCP request by JSON-RPC method (`status` ok or error) and observe its latency."""
        children = self._request_children.get((method, status))
        if children is None:
            children = (self._mcp_requests.labels(method, status), self._mcp_latency.labels(method))
            self._request_children[(method, status)] = children
        count, latency = children
        count.inc()
        latency.observe(latency_s)
        if status != "ok":
            self._errors.labels("mcp_request").inc()

    def error(self, source: str) -> None:
        """Count a failure not covered by `tool_call` or `mcp_request`."""
        self._errors.labels(source).inc()

    def sandbox_run(self, outcome: str) -> None:
        """Count a script run by outcome (ok, syntax, runtime, limit, tool, internal)."""
        self._sandbox_runs.labels(outcome).inc()

    def sandbox_kill(self, reason: str) -> None:
        """Count a sandbox worker killed (timeout_s, memory_mb, crash, ...)."""
        self._sandbox_kills.labels(reason).inc()

    def approval_decided(self, decision: str) -> None:
        """Count a held call decided (approved, denied, timeout)."""
        self._approvals.labels(decision).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every series."""
        return generate_latest(self.registry)


def metrics_app(metrics: GatewayMetrics) -> Callable[[Scope, Receive, Send], Any]:
    """A pure ASGI app answering any GET with the metrics in Prometheus text format."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = Response("method not allowed", status_code=405, headers={"Allow": "GET"})
        else:
            response = Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)

    return app


def metrics_route(metrics: GatewayMetrics, path: str = "/metrics") -> Route:
    """A Starlette route for `GET path` serving the metrics."""

    async def endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Route(path, endpoint, methods=["GET"])
