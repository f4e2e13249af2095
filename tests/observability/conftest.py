"""Fixtures for the observability tests: each log store in turn, and generated records.

`log_store` runs a test on SQLite (a file in the test's tmp dir), SQLite in memory (no data dir)
and PostgreSQL (a fresh database in the session's real server, dropped afterwards).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import LogRecord, LogStore, new_log_id, open_log_store
from tests.fixtures.postgres import PostgresServer, create_database, drop_database

STORES = ["sqlite", "sqlite-memory", "postgres"]


@pytest.fixture(params=STORES)
async def log_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LogStore]:
    """Each store, empty, through `open_log_store` as the gateway opens it."""
    if request.param.startswith("sqlite"):
        data_dir = tmp_path / "data" if request.param == "sqlite" else None
        store = await open_log_store(LoggingSettings(), data_dir)
        try:
            yield store
        finally:
            await store.aclose()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await create_database(server)
    store = await open_log_store(LoggingSettings(store=url), None)
    try:
        yield store
    finally:
        await store.aclose()
        await drop_database(server, url)


T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

KEYS = [("k1", "alice", "backend", "acme"), ("k2", "bob", "data", "acme"), ("k3", "carol", None, None)]
SERVERS = {"github": ["create_issue", "list_issues"], "time": ["get_time"], "db": ["query"]}
ERRORS = ["Upstream 'github' timed out", "rate LIMIT exceeded", "Déjà vu: ÉCHEC", "permission denied"]
WORDS = ["alpha", "Beta", "gamma", "Ünïcode", "needle", "%_literal", 'quote"d']


def make_record(rng: random.Random, index: int, parents: list[str]) -> LogRecord:
    """A varied record; timestamps mostly increase with `index`, sometimes share a millisecond."""
    started = T0 + index * rng.choice([0.0, 0.001, 0.5, 3.0]) + rng.random() * 0.001
    latency = round(rng.expovariate(1 / 80), 3)
    key_id, key_name, team, customer = rng.choice(KEYS)
    server = rng.choice(list(SERVERS))
    kind = rng.choice(["tool_call", "tool_call", "mcp_request", "llm_request"])
    status: Any = rng.choice(["ok", "ok", "ok", "error", "denied", "timeout"])
    arguments: dict[str, Any] = {"q": " ".join(rng.sample(WORDS, 2)), "n": rng.randint(0, 9)}
    record = LogRecord(
        id=new_log_id(started),
        kind=kind,
        started_at=started,
        ended_at=started + latency / 1000,
        latency_ms=latency,
        status=status,
        parent_id=rng.choice(parents) if parents and rng.random() < 0.3 else None,
        key_id=key_id,
        key_name=key_name,
        team=team,
        customer=customer,
        client_name=rng.choice(["claude-code", "cursor", None]),
        client_version=rng.choice(["1.0", "2.1", None]),
        method="tools/call" if kind == "tool_call" else rng.choice(["tools/list", "initialize", "chat"]),
        server=server if kind == "tool_call" else None,
        tool=rng.choice(SERVERS[server]) if kind == "tool_call" else None,
        mode=rng.choice(["direct", "code"]) if kind == "tool_call" else None,
        arguments=arguments if rng.random() < 0.9 else None,
        result=f'{{"text": "{rng.choice(WORDS)}"}}' if status == "ok" else None,
        result_size=rng.randint(0, 20000),
        error=rng.choice(ERRORS) if status != "ok" else None,
        approval=rng.choice([None, "auto", "approved", "denied", "timeout"]),
        reviewer=rng.choice([None, "admin"]),
        cost=rng.choice([0.0, 0.0, 0.5, 1.25, 3.0]),
        extra={"script": "print(1)"} if rng.random() < 0.1 else {},
    )
    if kind == "tool_call" and rng.random() < 0.2:
        parents.append(record.id)
    return record


def make_records(count: int, seed: int) -> list[LogRecord]:
    """`count` records from a seeded generator (same seed, same records)."""
    rng = random.Random(seed)
    parents: list[str] = []
    return [make_record(rng, i, parents) for i in range(count)]
