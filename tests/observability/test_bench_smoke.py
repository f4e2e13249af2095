"""`python -m benchmarks.log_store_bench` runs end to end on a small load and prints every figure."""

from __future__ import annotations

import re
import sys

import anyio

from tests.fixtures.npm import ROOT
from tests.fixtures.postgres import PostgresServer, create_database, drop_database


async def test_log_store_bench_prints_every_figure(postgres_server: PostgresServer) -> None:
    url = await create_database(postgres_server, "bench")
    try:
        argv = [sys.executable, "-m", "benchmarks.log_store_bench", "--records", "400", "--batch-size", "50"]
        with anyio.fail_after(300):
            done = await anyio.run_process([*argv, "--postgres", url], cwd=ROOT, check=False)
    finally:
        await drop_database(postgres_server, url)
    out = done.stdout.decode()
    assert done.returncode == 0, out + done.stderr.decode()
    for store in ("SQLite", "PostgreSQL"):
        line = next(line for line in out.splitlines() if line.strip().startswith(store))
        figures = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) records/s", line)]
        assert len(figures) == 2 and all(f > 0 for f in figures), line
    assert re.search(r"LogWriter.submit: [\d.]+ us per record", out), out
