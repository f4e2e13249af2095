"""One object for the request path, and one call for the lifespan to build and tear it down.

    async with open_observability(config.logging, data_dir, metrics=metrics) as obs:
        ...                               # serve; tool calls end in obs.finish(record, ...)

`open_observability` opens the store, starts the writer task, and on exit flushes every queued
record before closing the store. With `logging.enabled: false` nothing is stored, but metrics
still count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability.metrics import GatewayMetrics
from mcp_gateway.observability.records import LogRecord
from mcp_gateway.observability.redact import Redactor
from mcp_gateway.observability.store import LogStore, open_log_store
from mcp_gateway.observability.writer import LogWriter

__all__ = ["Observability", "open_observability"]

_NO_RESULT = object()


@dataclass(slots=True)
class Observability:
    """The log store and writer (None when logging is disabled), redaction and metrics."""

    settings: LoggingSettings
    store: LogStore | None
    writer: LogWriter | None
    redactor: Redactor
    metrics: GatewayMetrics

    def finish(self, record: LogRecord, *, arguments: Any = None, result: Any = _NO_RESULT) -> None:
        """Complete `record` and queue it: redacted `arguments`, the redacted and trimmed `result`.

        `arguments` and `result` are the raw values (a result as a dict in MCP shape, JSON text,
        or any JSON-able value); fields already set on `record` stay unless these are given.
        Tool calls are also counted in the metrics (`server`, `tool`, `status`, `latency_ms`).
        Synchronous and cheap enough for the request path; the store write happens later.
        """
        if record.kind == "tool_call" and record.server is not None and record.tool is not None:
            self.metrics.tool_call(record.server, record.tool, record.status, record.latency_ms / 1000)
        if self.writer is None:
            return
        if arguments is not None:
            record.arguments = self.redactor.redact(record.server, record.tool, arguments)
        if result is not _NO_RESULT and result is not None:
            record.result, record.result_size = self.redactor.result_text(
                record.server, record.tool, result, self.settings.max_result_bytes
            )
        self.writer.submit(record)


@asynccontextmanager
async def open_observability(
    settings: LoggingSettings, data_dir: Path | None, *, metrics: GatewayMetrics | None = None
) -> AsyncIterator[Observability]:
    """Open the store (see `open_log_store`), run the writer, and yield the `Observability`.

    On exit the writer flushes everything still queued, then the store is closed. Enter and exit
    it in one task (the app lifespan).
    """
    metrics = metrics if metrics is not None else GatewayMetrics()
    redactor = Redactor(settings.redact)
    if not settings.enabled:
        yield Observability(settings, None, None, redactor, metrics)
        return
    store = await open_log_store(settings, data_dir)
    try:
        writer = LogWriter(store, settings)
        metrics.bind(writer=writer)
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer.run)
            try:
                yield Observability(settings, store, writer, redactor, metrics)
            finally:
                with anyio.CancelScope(shield=True):
                    await writer.aclose()
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await store.aclose()
