"""One suite for every log store: round trips, children, duplicates, purge, and queries that agree
with `LogQuery.matches` (the brute-force oracle) on generated data, page by page."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import LogQuery, LogRecord, LogStore, LogStoreError, new_log_id, open_log_store
from mcp_gateway.observability.query import encode_cursor
from tests.fixtures.postgres import PostgresServer, create_database, drop_database

from .conftest import ERRORS, KEYS, SERVERS, T0, WORDS, make_records


async def test_round_trip_keeps_every_field(log_store: LogStore) -> None:
    records = make_records(50, seed=1)
    records[0].arguments = {"nested": {"list": [1, 2.5, None, True, "é"]}, "empty": {}}
    records[0].extra = {"script": "x = github.create_issue(title='t')\nprint(x)", "calls": 5}
    await log_store.write(records)
    for record in records:
        assert await log_store.get(record.id) == record
    assert await log_store.get(new_log_id()) is None
    assert await log_store.count() == 50


async def test_writing_a_batch_twice_stores_it_once(log_store: LogStore) -> None:
    records = make_records(20, seed=2)
    await log_store.write(records)
    await log_store.write(records[5:] + make_records(3, seed=99))  # a retried batch, partly new
    assert await log_store.count() == 23


async def test_children_are_the_calls_of_a_script_oldest_first(log_store: LogStore) -> None:
    parent = LogRecord(kind="tool_call", started_at=T0, ended_at=T0 + 1, latency_ms=1000.0, tool="executeToolCode")
    children = [
        LogRecord(
            id=new_log_id(T0 + i / 10),
            kind="tool_call",
            started_at=T0 + i / 10,
            ended_at=T0 + i / 10 + 0.01,
            latency_ms=10.0,
            parent_id=parent.id,
            server="github",
            tool="create_issue",
            mode="code",
        )
        for i in range(1, 6)
    ]
    await log_store.write([children[3], parent, *children[:3], children[4]])
    assert [c.id for c in await log_store.children(parent.id)] == [c.id for c in children]
    assert await log_store.children(children[0].id) == []


async def test_purge_before_removes_only_older_records(log_store: LogStore) -> None:
    records = make_records(100, seed=3)
    await log_store.write(records)
    cutoff = sorted(r.started_at for r in records)[40]
    expected = sum(1 for r in records if r.started_at < cutoff)
    assert await log_store.purge_before(cutoff) == expected
    assert await log_store.count() == 100 - expected
    page = await log_store.query(LogQuery(limit=500))
    assert all(r.started_at >= cutoff for r in page.records)
    assert await log_store.purge_before(cutoff) == 0


def random_query(rng: random.Random, records: list[LogRecord]) -> dict[str, Any]:
    """One to three random filters, with values that sometimes match nothing."""
    sample = rng.choice(records)
    times = sorted(r.started_at for r in records)
    choices: dict[str, Any] = {
        "since": lambda: rng.choice(times),
        "until": lambda: rng.choice(times),
        "key": lambda: rng.choice([k[rng.choice([0, 1])] for k in KEYS] + ["nobody"]),
        "team": lambda: rng.choice(["backend", "data", "ops"]),
        "customer": lambda: rng.choice(["acme", "other"]),
        "server": lambda: rng.choice([*SERVERS, "nope"]),
        "tool": lambda: rng.choice([t for tools in SERVERS.values() for t in tools]),
        "status": lambda: rng.choice(["ok", "error", "denied", "timeout"]),
        "error": lambda: rng.choice([e[2:9].swapcase() for e in ERRORS] + ["déjà", "ÉCHEC", "zzz"]),
        "min_latency_ms": lambda: rng.choice([0, 10, 50.5, 200]),
        "max_latency_ms": lambda: rng.choice([5, 80, 300, sample.latency_ms]),
        "min_cost": lambda: rng.choice([0.0, 0.5, 1.25, 2]),
        "max_cost": lambda: rng.choice([0.0, 0.5, 3]),
        "parent_id": lambda: rng.choice([r.parent_id for r in records if r.parent_id] + [sample.id]),
        "mode": lambda: rng.choice(["direct", "code"]),
        "approval": lambda: rng.choice(["auto", "approved", "denied", "timeout"]),
        "q": lambda: rng.choice([w.upper() for w in WORDS] + [w[1:4] for w in WORDS] + ["%", "_", '"', "zz"]),
        "kind": lambda: rng.choice(["tool_call", "mcp_request", "llm_request"]),
        "method": lambda: rng.choice(["tools/call", "tools/list", "chat"]),
        "client": lambda: rng.choice(["claude-code", "cursor"]),
    }
    names = rng.sample(sorted(choices), rng.choice([0, 1, 1, 2, 2, 3]))
    return {name: choices[name]() for name in names}


async def page_through(store: LogStore, query: LogQuery) -> list[str]:
    """Every id the store returns for `query`, following cursors to the end."""
    ids: list[str] = []
    cursor = None
    for _ in range(1000):
        page = await store.query(query.model_copy(update={"cursor": cursor}))
        assert len(page.records) <= query.limit
        ids += [r.id for r in page.records]
        if page.next_cursor is None:
            return ids
        assert len(page.records) == query.limit
        cursor = page.next_cursor
    raise AssertionError("pagination did not end")


async def test_filters_and_pages_agree_with_brute_force(log_store: LogStore) -> None:
    records = make_records(600, seed=4)
    for start in range(0, len(records), 128):
        await log_store.write(records[start : start + 128])
    newest_first = sorted(records, key=lambda r: r.id, reverse=True)
    rng = random.Random(5)
    non_empty = 0
    with anyio.fail_after(120):
        for _ in range(150):
            params = random_query(rng, records)
            query = LogQuery.model_validate({**params, "limit": rng.choice([1, 3, 7, 50, 500])})
            expected = [r.id for r in newest_first if query.matches(r)]
            got = await page_through(log_store, query)
            assert got == expected, params
            non_empty += bool(expected)
    assert non_empty > 50  # the generator must produce queries that find something


async def test_every_filter_at_once_finds_the_record(log_store: LogStore) -> None:
    records = make_records(200, seed=6)
    await log_store.write(records)
    target = next(r for r in records if r.kind == "tool_call" and r.error and r.approval and r.client_name)
    params = {
        "since": target.started_at, "until": target.started_at + 0.001, "key": target.key_name,
        "team": target.team, "customer": target.customer, "server": target.server, "tool": target.tool,
        "status": target.status, "error": target.error[3:8].upper(), "min_latency_ms": target.latency_ms,
        "max_latency_ms": target.latency_ms, "min_cost": target.cost, "max_cost": target.cost,
        "parent_id": target.parent_id, "mode": target.mode, "approval": target.approval,
        "q": str(target.arguments["q"]).upper() if target.arguments else None, "kind": target.kind,
        "method": target.method, "client": target.client_name,
    }  # fmt: skip
    query = LogQuery.from_params({k: str(v) for k, v in params.items() if v is not None})
    assert len([name for name in LogQuery.FILTERS if getattr(query, name) is not None]) >= 17
    page = await log_store.query(query)
    assert target.id in [r.id for r in page.records]
    assert all(query.matches(r) for r in page.records)


async def test_iso_times_and_cursor_beyond_the_end(log_store: LogStore) -> None:
    records = make_records(30, seed=7)
    await log_store.write(records)
    page = await log_store.query(LogQuery.from_params({"since": "2026-01-01T00:00:00Z", "limit": "10"}))
    assert len(page.records) == 10 and page.next_cursor is not None
    assert await log_store.query(LogQuery(until="2025-12-31T23:59:59+00:00")) == type(page)([], None)
    oldest = min(records, key=lambda r: r.id)
    assert (await log_store.query(LogQuery(cursor=encode_cursor(oldest.id)))).records == []


@pytest.mark.parametrize("count", [1, 1000])
async def test_concurrent_writes_and_reads(log_store: LogStore, count: int) -> None:
    records = make_records(count, seed=8)
    chunks = [records[i : i + 37] for i in range(0, count, 37)]
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for chunk in chunks:
                tg.start_soon(log_store.write, chunk)
                tg.start_soon(log_store.query, LogQuery(limit=5))
    assert await log_store.count() == count


async def test_postgres_errors_hide_the_password_and_schema_creation_does_not_race(
    postgres_server: PostgresServer,
) -> None:
    with pytest.raises(LogStoreError) as caught:
        await open_log_store(LoggingSettings(store="postgresql://logger:s3cret-pw@127.0.0.1:1/logs"), None)
    assert "s3cret-pw" not in str(caught.value) and "logger:***@" in str(caught.value)
    url = await create_database(postgres_server)
    try:
        with anyio.fail_after(30):
            stores: list[LogStore | None] = [None] * 4

            async def open_one(i: int) -> None:
                stores[i] = await open_log_store(LoggingSettings(store=url), None)

            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(open_one, i)
        for store in stores:
            assert store is not None
            assert await store.count() == 0
            await store.aclose()
    finally:
        await drop_database(postgres_server, url)
