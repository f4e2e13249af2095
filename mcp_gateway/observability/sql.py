"""The SQL both stores share: the columns of the `logs` table, row conversion and query filters.

SQLite and PostgreSQL differ only in placeholders (`?` against `$1`) and in how a substring is
found, so one builder serves both. Text filters compare against lower-cased columns written by
Python (`error_lc`, `search`), never against SQL's `lower()`, whose idea of case differs between
the two databases and from Python's (which `LogQuery.matches` uses).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mcp_gateway.observability.query import EQUALITY_FILTERS, RANGE_FILTERS, LogQuery
from mcp_gateway.observability.records import LogRecord, arguments_json, search_text

__all__ = ["COLUMNS", "INDEXES", "SELECT_COLUMNS", "WhereClause", "build_where", "record_from_row", "record_to_row"]

COLUMNS: tuple[str, ...] = (
    "id", "kind", "started_at", "ended_at", "latency_ms", "status", "parent_id", "key_id", "key_name",
    "team", "customer", "client_name", "client_version", "method", "server", "tool", "mode",
    "arguments", "result", "result_size", "error", "approval", "reviewer", "cost", "extra",
    "error_lc", "search",
)  # fmt: skip
"""Column order of `record_to_row`; the last two are derived search columns."""

INDEXES: tuple[tuple[str, str], ...] = (
    ("logs_started_at", "started_at"),
    ("logs_parent", "parent_id, id"),
    ("logs_key_name", "key_name, id"),
    ("logs_team", "team, id"),
    ("logs_server_tool", "server, tool, id"),
    ("logs_status", "status, id"),
)
"""(name, columns): the common filters followed by `id`, so such a page is one index range scan
in id order with no sort. Other filters scan newest first until the page is full. Every index
costs write throughput (SQLite: about 30k rows/s with none, 20k with these six, 15k with nine)."""


def record_to_row(record: LogRecord) -> tuple[Any, ...]:
    """The values of `COLUMNS` for `record` (JSON fields as text)."""
    arguments = arguments_json(record.arguments)
    error = record.error
    return (
        record.id, record.kind, float(record.started_at), float(record.ended_at), float(record.latency_ms),
        record.status, record.parent_id, record.key_id, record.key_name, record.team, record.customer,
        record.client_name, record.client_version, record.method, record.server, record.tool, record.mode,
        arguments, record.result, int(record.result_size), error, record.approval, record.reviewer,
        float(record.cost),
        json.dumps(record.extra, ensure_ascii=False, separators=(",", ":"), default=str) if record.extra else None,
        error.lower() if error is not None else None, search_text(record, arguments),
    )  # fmt: skip


SELECT_COLUMNS = ", ".join(COLUMNS[:-2])
"""The stored record's columns, without the derived ones."""


def record_from_row(row: Sequence[Any]) -> LogRecord:
    """A `LogRecord` from a row selected with `SELECT_COLUMNS`."""
    (
        id_, kind, started_at, ended_at, latency_ms, status, parent_id, key_id, key_name, team, customer,
        client_name, client_version, method, server, tool, mode, arguments, result, result_size, error,
        approval, reviewer, cost, extra,
    ) = row  # fmt: skip
    return LogRecord(
        id=id_, kind=kind, started_at=started_at, ended_at=ended_at, latency_ms=latency_ms, status=status,
        parent_id=parent_id, key_id=key_id, key_name=key_name, team=team, customer=customer,
        client_name=client_name, client_version=client_version, method=method, server=server, tool=tool,
        mode=mode, arguments=json.loads(arguments) if arguments is not None else None, result=result,
        result_size=result_size, error=error, approval=approval, reviewer=reviewer, cost=cost,
        extra=json.loads(extra) if extra else {},
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WhereClause:
    """`sql` (starting with ` WHERE`, or empty) and its parameters in order."""

    sql: str
    params: list[Any]


def build_where(
    query: LogQuery,
    placeholder: Callable[[int], str],
    contains: Callable[[str, str], str],
    *,
    with_cursor: bool = True,
) -> WhereClause:
    """The WHERE clause for `query`'s filters (and its cursor unless `with_cursor` is false).

    `placeholder(n)` spells the n-th parameter (1-based); `contains(column, placeholder)` spells
    "column holds this substring".
    """
    clauses: list[str] = []
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return placeholder(len(params))

    for name, op_column, op in RANGE_FILTERS:
        value = getattr(query, name)
        if value is not None:
            clauses.append(f"{op_column} {op} {param(float(value))}")
    if query.key is not None:
        clauses.append(f"(key_name = {param(query.key)} OR key_id = {param(query.key)})")
    for name, column in EQUALITY_FILTERS:
        value = getattr(query, name)
        if value is not None:
            clauses.append(f"{column} = {param(value)}")
    if query.error is not None:
        clauses.append(f"error_lc IS NOT NULL AND {contains('error_lc', param(query.error.lower()))}")
    if query.q is not None:
        clauses.append(contains("search", param(query.q.lower())))
    if with_cursor and query.after_id is not None:
        clauses.append(f"id < {param(query.after_id)}")
    return WhereClause(" WHERE " + " AND ".join(clauses) if clauses else "", params)
