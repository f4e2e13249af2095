"""Audit logging and metrics: records, redaction, an async batched writer, stores, Prometheus.

A leaf of the gateway: it imports `mcp_gateway.errors` and `mcp_gateway.config` only, and
knows nothing of transports, Code Mode or upstreams. See `docs/observability.md`.

The lifespan enters `open_observability(config.logging, data_dir, metrics=GatewayMetrics())`
(store, writer task, redaction; flushed and closed on exit); the tool-call path builds a
`LogRecord` and calls `obs.finish(record, arguments=..., result=...)`.
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
from mcp_gateway.observability.service import Observability, open_observability
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
    "Observability",
    "Redactor",
    "Subscription",
    "metrics_app",
    "metrics_route",
    "new_log_id",
    "open_observability",
    "open_log_store",
    "trim",
]
