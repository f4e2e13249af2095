"""`open_observability` as the lifespan uses it: records finished on the request path come out
redacted, trimmed, counted in the metrics and stored by the time the context exits."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import REDACTED, GatewayMetrics, LogQuery, LogRecord, open_log_store, open_observability

from .conftest import T0


def tool_call(i: int, **fields: object) -> LogRecord:
    return LogRecord(
        kind="tool_call", started_at=T0 + i, ended_at=T0 + i + 0.05, latency_ms=50.0, server="crm", tool="find",
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_finished_records_are_redacted_trimmed_counted_and_stored(tmp_path: Path) -> None:
    settings = LoggingSettings.model_validate(
        {"retention": None, "max_result_bytes": 64, "redact": {"rules": [{"tool": "crm__*", "fields": ["ssn"]}]}}
    )
    metrics = GatewayMetrics()
    big = {"content": [{"type": "text", "text": json.dumps({"rows": list(range(100)), "token": "t"})}]}
    parent = tool_call(0, mode="code")
    async with open_observability(settings, tmp_path, metrics=metrics) as obs:
        assert obs.writer is not None
        obs.finish(parent, arguments={"code": "crm.find(ssn='1')"}, result={"content": []})
        for i in range(1, 6):
            obs.finish(
                tool_call(i, parent_id=parent.id, mode="code", status="ok" if i < 5 else "error"),
                arguments={"ssn": "123-45", "password": "pw", "name": f"n{i}"},
                result=big,
            )
    # Exiting flushed the queue and closed the store; read it back from the file.
    store = await open_log_store(settings, tmp_path)
    children = await store.children(parent.id)
    assert len(children) == 5
    assert children[0].arguments == {"ssn": REDACTED, "password": REDACTED, "name": "n1"}
    assert children[0].result is not None and len(children[0].result.encode()) <= 64
    assert children[0].result_size > 300 and "token" not in children[0].result[40:]
    assert (await store.query(LogQuery(status="error"))).records[0].id == children[4].id
    await store.aclose()
    text = metrics.render().decode()
    assert 'mcp_gateway_tool_calls_total{server="crm",status="ok",tool="find"} 5.0' in text
    assert "mcp_gateway_log_records_written_total 6.0" in text


async def test_disabled_logging_stores_nothing_but_still_counts(tmp_path: Path) -> None:
    metrics = GatewayMetrics()
    async with open_observability(LoggingSettings(enabled=False), tmp_path, metrics=metrics) as obs:
        assert obs.store is None and obs.writer is None
        obs.finish(tool_call(1), arguments={"a": 1}, result="{}")
    assert not (tmp_path / "logs.db").exists()
    assert 'mcp_gateway_tool_calls_total{server="crm",status="ok",tool="find"} 1.0' in metrics.render().decode()
