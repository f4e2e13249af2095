"""Log store write throughput and the cost of `LogWriter.submit` on the request path.

    .venv/bin/python -m benchmarks.log_store_bench [--records 20000] [--batch-size 500] [--postgres URL]

For SQLite (a file in a temp dir, WAL, synchronous=NORMAL) and PostgreSQL it prints records per
second written by raw `store.write` batches and through `LogWriter` (submit everything, then the
writer task batches it in and `aclose` flushes the rest). Without `--postgres` it starts its own
PostgreSQL on a free loopback port with default durability (fsync on) like the test fixture, or
says that PostgreSQL is skipped when it is not installed. Then it prints what one
`LogWriter.submit` costs, and for context `new_log_id` and default redaction of typical
arguments.

Records look like real tool calls: ~150 bytes of arguments, a ~1 KB JSON result, key, team,
client and timing fields, every tenth one with a parent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability import LogRecord, LogStore, LogWriter, Redactor, new_log_id, open_log_store


def make_records(count: int, seed: int = 1) -> list[LogRecord]:
    """`count` realistic tool-call records."""
    rng = random.Random(seed)
    now = time.time()
    out: list[LogRecord] = []
    for i in range(count):
        started = now - count / 1000 + i / 1000
        latency = rng.uniform(1, 200)
        items = ", ".join(f'{{"id": {j}, "title": "issue {j} {rng.random():.6f}"}}' for j in range(24))
        result = '{"items": [' + items + "]}"
        out.append(
            LogRecord(
                id=new_log_id(started),
                kind="tool_call",
                started_at=started,
                ended_at=started + latency / 1000,
                latency_ms=latency,
                parent_id=out[i - 1].id if i % 10 == 9 else None,
                key_id=f"key_{i % 50}",
                key_name=f"user{i % 50}",
                team=f"team{i % 7}",
                customer="acme",
                client_name="claude-code",
                client_version="2.1.0",
                method="tools/call",
                server=f"server{i % 12}",
                tool=f"tool_{i % 40}",
                mode="code" if i % 3 else "direct",
                arguments={"repo": "acme/gateway", "query": f"is:open label:bug {i}", "limit": 25, "page": i % 4},
                result=result,
                result_size=len(result),
                status="ok" if i % 20 else "error",
                error=None if i % 20 else "upstream 'server3' timed out after 30.0s",
                approval="auto",
                cost=0.001 * (i % 5),
            )
        )
    return out


async def raw_writes(store: LogStore, records: list[LogRecord], batch: int) -> float:
    """Records per second of sequential `store.write` batches."""
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        await store.write(records[i : i + batch])
    return len(records) / (time.perf_counter() - started)


async def writer_writes(store: LogStore, records: list[LogRecord], batch: int) -> float:
    """Records per second from the first submit until the writer has stored every record."""
    settings = LoggingSettings(queue_size=len(records) + 1, batch_size=batch, retention=None, flush_interval_ms=100)
    writer = LogWriter(store, settings)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        started = time.perf_counter()
        for i, record in enumerate(records):
            writer.submit(record)
            if i % 200 == 199:
                await asyncio.sleep(0)  # let the writer task take turns, as between requests
        await writer.aclose()
        elapsed = time.perf_counter() - started
    assert writer.written == len(records) and writer.dropped == 0, (writer.written, writer.dropped)
    return len(records) / elapsed


async def submit_cost(store: LogStore, records: list[LogRecord]) -> float:
    """Median over 5 rounds of the mean microseconds of `LogWriter.submit` into a queue with room
    (no writer task runs, so this is the request path's cost alone)."""
    rounds = []
    for _ in range(5):
        writer = LogWriter(store, LoggingSettings(queue_size=len(records) + 1, batch_size=50_000))
        started = time.perf_counter()
        for record in records:
            writer.submit(record)
        rounds.append((time.perf_counter() - started) / len(records) * 1e6)
    return statistics.median(rounds)


def context_costs(records: list[LogRecord]) -> tuple[float, float]:
    """Microseconds per `new_log_id()` and per default redaction of a record's arguments."""
    n = len(records)
    started = time.perf_counter()
    for _ in range(n):
        new_log_id()
    id_us = (time.perf_counter() - started) / n * 1e6
    redactor = Redactor()
    started = time.perf_counter()
    for record in records:
        redactor.redact(record.server, record.tool, record.arguments)
    return id_us, (time.perf_counter() - started) / n * 1e6


@contextlib.contextmanager
def own_postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL (default durability) like the test fixture's, or None if not installed."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        yield None
        return
    from tests.fixtures.postgres import start_postgres

    with start_postgres(durable=True) as server:
        yield server.url


async def bench_store(name: str, store: LogStore, records: list[LogRecord], batch: int) -> None:
    half = len(records) // 2
    raw = await raw_writes(store, records[:half], batch)
    through = await writer_writes(store, records[half:], batch)
    print(f"  {name:<11} raw store.write: {raw:>9,.0f} records/s   through LogWriter: {through:>9,.0f} records/s")


async def main_async(args: argparse.Namespace, postgres_url: str | None) -> None:
    records = make_records(args.records)
    size = sum(len(r.result or "") for r in records) / len(records)
    print(f"{args.records:,} records (~{size:,.0f} B result each), batches of {args.batch_size}:")
    with tempfile.TemporaryDirectory(prefix="log-bench-") as tmp:
        store = await open_log_store(LoggingSettings(), Path(tmp))
        try:
            await bench_store("SQLite", store, records, args.batch_size)
            submit_us = await submit_cost(store, records)
        finally:
            await store.aclose()
    if postgres_url is None:
        print("  PostgreSQL  skipped: not installed (Debian package postgresql) and no --postgres URL")
    else:
        store = await open_log_store(LoggingSettings(store=postgres_url), None)
        try:
            await bench_store("PostgreSQL", store, records, args.batch_size)
        finally:
            await store.aclose()
    print(f"LogWriter.submit: {submit_us:.3f} us per record (queue with room, no I/O)")
    id_us, redact_us = context_costs(records)
    print(f"for context: new_log_id {id_us:.2f} us; default redaction of a record's arguments {redact_us:.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per store (half raw, half writer)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--postgres", help="postgresql:// URL of a database to write into (table 'logs')")
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(main_async(args, args.postgres))
        return
    with own_postgres() as url:
        asyncio.run(main_async(args, url))


if __name__ == "__main__":
    main()
