"""The `logging:` config section (errors name the key path), query parsing, record (de)serialisation,
ids, and the package's public face (a leaf: no transport, Code Mode or upstream imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcp_gateway import observability
from mcp_gateway.config import parse_config
from mcp_gateway.errors import ConfigError, GatewayError
from mcp_gateway.observability import LogQuery, LogQueryError, LogRecord, new_log_id
from mcp_gateway.observability.query import encode_cursor
from mcp_gateway.observability.records import decode_id_time

from .conftest import make_records


def test_logging_defaults_and_a_full_section() -> None:
    assert parse_config({}, "t.yaml", {}).logging.retention_seconds == 30 * 86_400
    text = """
logging:
  store: ${PG_URL}
  retention: 2w
  max_result_bytes: 100
  queue_size: 5
  batch_size: 2
  redact:
    default_names: false
    names: [ssn]
    rules:
      - {tool: "crm__*", fields: ["customer.email", "items[*].card"]}
"""
    config = parse_config(yaml.safe_load(text), "t.yaml", {"PG_URL": "postgresql://u:p@db/logs"})
    logging = config.logging
    assert logging.store == "postgresql://u:p@db/logs"
    assert logging.retention_seconds == 14 * 86_400
    assert (logging.max_result_bytes, logging.queue_size, logging.batch_size) == (100, 5, 2)
    assert logging.redact.rules[0].fields == ["customer.email", "items[*].card"]
    assert parse_config({"logging": {"retention": None}}, "t.yaml", {}).logging.retention_seconds is None


@pytest.mark.parametrize(
    ("section", "path", "message"),
    [
        ({"retention": "30 days"}, "logging.retention", "invalid period"),
        ({"store": "mysql://x"}, "logging.store", "postgresql://"),
        ({"queue_size": 0}, "logging.queue_size", "greater than or equal to 1"),
        ({"redact": {"rules": [{"tool": "a", "fields": ["x[y]"]}]}}, "logging.redact.rules[0].fields[0]", "field path"),
        ({"redact": {"rules": [{"tool": "a", "fields": []}]}}, "logging.redact.rules[0].fields", "at least 1"),
        ({"redact": {"default": True}}, "logging.redact.default", "unknown key"),
    ],
)
def test_config_errors_name_the_key_path(section: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"logging": section}, "gw.yaml", {})
    problems = dict(caught.value.problems)
    assert path in problems, problems
    assert message in problems[path]


def test_query_from_params_parses_and_names_bad_parameters() -> None:
    q = LogQuery.from_params(
        {"since": "2026-01-01T00:00:00Z", "until": "1767312000", "min_latency_ms": "5", "status": "error", "key": "",
         "limit": "20", "q": "Needle"}
    )  # fmt: skip
    assert (q.since, q.until, q.min_latency_ms, q.status, q.key, q.limit) == (
        1_767_225_600.0, 1_767_312_000.0, 5.0, "error", None, 20
    )  # fmt: skip
    assert LogQuery.from_params(q.to_params()) == q
    for params, name in [
        ({"since": "yesterday"}, "since"),
        ({"status": "broken"}, "status"),
        ({"limit": "501"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"min_cost": "cheap"}, "min_cost"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ]:
        with pytest.raises(LogQueryError) as caught:
            LogQuery.from_params(params)
        assert caught.value.param == name and name in str(caught.value)
        assert isinstance(caught.value, GatewayError) and caught.value.status == 400
    assert len(LogQuery.FILTERS) >= 14


def test_query_matches_each_filter() -> None:
    record = make_records(1, seed=30)[0]
    record.error, record.status, record.key_name, record.key_id = "Upstream TIMED out", "timeout", "alice", "k1"
    record.client_name = "cursor"
    assert LogQuery().matches(record)
    assert LogQuery(key="alice").matches(record) and LogQuery(key="k1").matches(record)
    assert not LogQuery(key="bob").matches(record)
    assert LogQuery(error="timed OUT").matches(record) and not LogQuery(error="refused").matches(record)
    assert LogQuery(since=record.started_at).matches(record) and not LogQuery(until=record.started_at).matches(record)
    assert not LogQuery(max_latency_ms=record.latency_ms - 0.001).matches(record)
    assert LogQuery(client="cursor").matches(record) and not LogQuery(client="claude-code").matches(record)


def test_records_round_trip_through_dicts_and_reject_bad_values() -> None:
    for record in make_records(20, seed=31):
        data = record.to_dict()
        assert data["is_error"] == record.is_error
        assert LogRecord.from_dict(data) == record
    data = make_records(1, seed=32)[0].to_dict()
    with pytest.raises(ValueError, match="'status'"):
        LogRecord.from_dict({**data, "status": "weird"})
    with pytest.raises(ValueError, match="'kind'"):
        LogRecord.from_dict({k: v for k, v in data.items() if k != "kind"})


def test_ids_sort_by_time_and_are_unique() -> None:
    times = [1_700_000_000 + i * 0.0007 for i in range(2000)]
    ids = [new_log_id(t) for t in times]
    assert len(set(ids)) == 2000 and all(len(i) == 26 for i in ids)
    ms = [int(t * 1000) for t in times]
    assert sorted(range(2000), key=lambda i: ids[i]) == sorted(range(2000), key=lambda i: (ms[i], ids[i]))
    assert decode_id_time(ids[0]) == ms[0] / 1000
    assert LogQuery(cursor=encode_cursor(ids[5])).after_id == ids[5]


PACKAGE = Path(observability.__file__).parent


def test_public_names_exist_and_the_package_is_a_leaf() -> None:
    assert sorted(observability.__all__) == sorted(set(observability.__all__))
    for name in observability.__all__:
        assert getattr(observability, name) is not None, name
    code = (
        "import mcp_gateway.observability, mcp_gateway.observability.sqlite, mcp_gateway.observability.postgres, sys; "
        "bad = [m for m in sys.modules if m.startswith(('mcp_gateway.server', 'mcp_gateway.upstream', "
        "'mcp_gateway.codemode', 'mcp_gateway.catalog', 'mcp_gateway.admin', 'llm_proxy', 'sandbox', 'mcp.'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes
