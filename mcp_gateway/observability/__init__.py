"""Audit logging and metrics: records, redaction, an async batched writer, stores, Prometheus.

A leaf of the gateway: it imports `mcp_gateway.errors` and `mcp_gateway.config` only, and
knows nothing of transports, Code Mode or upstreams. See `docs/observability.md`.

The lifespan builds it: `store = await open_log_store(config.logging, data_dir)`, a
`LogWriter(store, config.logging)` whose `run()` is a task, a `Redactor(config.logging.redact)`
and a `GatewayMetrics()`; the tool-call path then builds a `LogRecord` and calls `writer.submit`.
"""

from mcp_gateway.observability.metrics import GatewayMetrics, metrics_app, metrics_route
from mcp_gateway.observability.query import LogQuery, LogQueryError
from mcp_gateway.observability.records import (
    ApprovalDecision,
    CallMode,
    LogKind,
    LogRecord,
    LogStatus,
    new_log_id,
)
from mcp_gateway.observability.redact import REDACTED, Redactor, trim
from mcp_gateway.observability.store import LogPage, LogStore, LogStoreError, open_log_store
from mcp_gateway.observability.writer import LiveEvent, LogWriter, Missed, Subscription

__all__ = [
    "REDACTED",
    "ApprovalDecision",
    "CallMode",
    "GatewayMetrics",
    "LiveEvent",
    "LogKind",
    "LogPage",
    "LogQuery",
    "LogQueryError",
    "LogRecord",
    "LogStatus",
    "LogStore",
    "LogStoreError",
    "LogWriter",
    "Missed",
    "Redactor",
    "Subscription",
    "metrics_app",
    "metrics_route",
    "new_log_id",
    "open_log_store",
    "trim",
]
