"""The batched writer: nothing lost under concurrency, drops counted when full, flush on close,
retries, live subscriptions (including slow ones) and retention.

The generated records start around 2026-01-01, so tests that do not test retention turn it off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import LogQuery, LogRecord, LogStore, LogWriter, Missed, open_log_store
from mcp_gateway.observability.query import LogQuery as Query
from mcp_gateway.observability.store import LogPage

from .conftest import T0, make_records


async def test_a_thousand_concurrent_submits_lose_nothing(log_store: LogStore) -> None:
    writer = LogWriter(log_store, LoggingSettings(retention=None, batch_size=64, flush_interval_ms=20))
    records = make_records(1000, seed=10)

    async def call(record: LogRecord) -> None:
        await anyio.lowlevel.checkpoint()  # interleave like real concurrent tool calls
        writer.submit(record)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer.run)
            async with anyio.create_task_group() as calls:
                for record in records:
                    calls.start_soon(call, record)
            await writer.aclose()
    assert (writer.written, writer.dropped, writer.failed) == (1000, 0, 0)
    assert await log_store.count() == 1000
    page = await log_store.query(LogQuery(limit=500))
    assert [r.id for r in page.records] == sorted((r.id for r in records), reverse=True)[:500]


async def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    store = await open_log_store(LoggingSettings(), tmp_path)
    writer = LogWriter(store, LoggingSettings(queue_size=10, batch_size=4))
    records = make_records(25, seed=11)
    started = time.perf_counter()
    for record in records:  # no writer task running: nothing drains the queue
        writer.submit(record)
    assert time.perf_counter() - started < 0.05
    assert (writer.queued, writer.dropped) == (10, 15)
    await writer.aclose()
    assert writer.written == 10 and await store.count() == 10
    writer.submit(records[0])  # after close: dropped, not queued
    assert (writer.queued, writer.dropped) == (0, 16)
    await store.aclose()


async def test_aclose_flushes_what_the_run_task_has_not_written(log_store: LogStore) -> None:
    writer = LogWriter(log_store, LoggingSettings(retention=None, batch_size=1000, flush_interval_ms=60_000))
    records = make_records(123, seed=12)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        for record in records:
            writer.submit(record)
        assert await log_store.count() == 0  # the interval is a minute: still queued
        with anyio.fail_after(10):
            await writer.aclose()
    assert await log_store.count() == 123


async def test_batches_fill_and_write_before_the_interval(tmp_path: Path) -> None:
    store = await open_log_store(LoggingSettings(), tmp_path)
    writer = LogWriter(store, LoggingSettings(retention=None, batch_size=50, flush_interval_ms=60_000))
    subscription = writer.subscribe()
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        for record in make_records(50, seed=13):
            writer.submit(record)
        with anyio.fail_after(10):  # far less than the minute-long interval
            for _ in range(50):
                await subscription.__anext__()
        assert writer.written == 50
        await writer.aclose()
    await store.aclose()


class FlakyStore:
    """A real store whose first `failures` writes raise, like a database restarting; `purged` is
    set after each purge."""

    def __init__(self, inner: LogStore, failures: int = 0) -> None:
        self.inner = inner
        self.failures = failures
        self.attempts = 0
        self.purged = anyio.Event()

    async def write(self, records: Sequence[LogRecord]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError(f"store unavailable (attempt {self.attempts})")
        await self.inner.write(records)

    async def query(self, q: Query) -> LogPage:
        return await self.inner.query(q)

    async def get(self, log_id: str) -> LogRecord | None:
        return await self.inner.get(log_id)

    async def children(self, log_id: str) -> list[LogRecord]:
        return await self.inner.children(log_id)

    async def count(self) -> int:
        return await self.inner.count()

    async def purge_before(self, ts: float) -> int:
        removed = await self.inner.purge_before(ts)
        self.purged.set()
        return removed

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(("failures", "written"), [(2, 40), (10, 0)])
async def test_failed_batches_are_retried_then_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failures: int, written: int
) -> None:
    store = FlakyStore(await open_log_store(LoggingSettings(), tmp_path), failures)
    writer = LogWriter(store, LoggingSettings(), retry_delays=(0, 0, 0))
    records = make_records(40, seed=14)
    records[0].arguments = {"note": "sensitive-argument-text"}
    for record in records:
        writer.submit(record)
    with caplog.at_level(logging.WARNING, logger="mcp_gateway.observability"), anyio.fail_after(10):
        await writer.aclose()
    assert (writer.written, writer.failed) == (written, 40 - written)
    assert await store.count() == written
    assert "store unavailable" in caplog.text
    assert "sensitive-argument-text" not in caplog.text
    await store.aclose()


async def test_subscriptions_receive_matching_records_live(log_store: LogStore) -> None:
    writer = LogWriter(log_store, LoggingSettings(retention=None, flush_interval_ms=10))
    records = make_records(200, seed=15)
    query = LogQuery(server="github", status="ok")
    expected = [r.id for r in records if query.matches(r)]
    everything = writer.subscribe()
    received: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        async with writer.subscribe(query) as subscription:
            for record in records:
                writer.submit(record)
            with anyio.fail_after(10):
                async for event in subscription:
                    assert isinstance(event, LogRecord)
                    received.append(event.id)
                    if len(received) == len(expected):
                        break
        await writer.aclose()
    assert received == expected
    assert len([e async for e in everything]) == 200  # ends once the writer is closed


async def test_a_slow_subscriber_is_told_how_many_it_missed(tmp_path: Path) -> None:
    store = await open_log_store(LoggingSettings(), tmp_path)
    writer = LogWriter(store, LoggingSettings(), subscriber_buffer=5)
    subscription = writer.subscribe()
    records = make_records(20, seed=16)
    for record in records:
        writer.submit(record)
    with anyio.fail_after(10):
        await writer.flush()  # the writer is never held up by the reader
        assert writer.written == 20
        first = [await subscription.__anext__() for _ in range(6)]
    assert [r.id for r in first[:5] if isinstance(r, LogRecord)] == [r.id for r in records[:5]]
    assert first[5] == Missed(15) and subscription.missed_total == 15
    await writer.aclose()
    await store.aclose()


async def test_retention_purges_old_records(log_store: LogStore) -> None:
    old = make_records(30, seed=17)  # around T0
    fresh = [
        LogRecord(kind="mcp_request", started_at=T0 + 5 * 86_400 + i, ended_at=T0 + 5 * 86_400 + i, latency_ms=1.0)
        for i in range(5)
    ]
    await log_store.write(old + fresh)
    store = FlakyStore(log_store)
    writer = LogWriter(store, LoggingSettings(retention="2d", flush_interval_ms=5), clock=lambda: T0 + 6 * 86_400)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        with anyio.fail_after(10):
            await store.purged.wait()
        await writer.aclose()
    assert writer.purged == 30
    assert await log_store.count() == 5
    assert await LogWriter(log_store, LoggingSettings(retention=None)).purge() == 0
