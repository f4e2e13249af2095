"""Governance hot path: authenticate + view lookup + limits check, and a filtered tools/list.

    .venv/bin/python benchmarks/governance_bench.py [--requests 20000] [--redis-url redis://...]

Prints p50/p99 per request for the in-memory counter store (target <= 50 us p50) and for Redis on
loopback (target <= 1 ms p50), plus the time to filter a 5,000-tool catalog down to a key's
500-tool view (what `tools/list` does when its per-view cache is cold). Without `--redis-url` it
starts its own `redis-server` on a free loopback port (no persistence) if one is installed.

The config is sized like a large deployment: 2,000 keys in 40 teams under 8 customers, 200 tool
groups, and a key-level rate limit plus team and customer budgets on the measured key, so a
limits check reads four counters (key requests, key tokens, team budget, customer budget).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.config import parse_config
from mcp_gateway.governance import CounterStore, Governance, MemoryCounterStore

SERVERS, TOOLS_PER_SERVER = 50, 100


def build_config() -> tuple[dict[str, Any], dict[str, str]]:
    """A config with 5,000 tools' worth of patterns and 2,000 keys; the key `bench` sees 500 tools."""
    groups: dict[str, Any] = {
        "wide": {"tools": ["s00.*", "s01.*", "s02.*"]},  # 300 tools
        "narrow": {"tools": [f"s{i:02d}.op_0{j}*" for i in range(10, 20) for j in range(2)]},  # 200 tools
    }
    for g in range(198):
        groups[f"g{g:03d}"] = {"tools": [f"s{(g + k) % SERVERS:02d}.op_{k:03d}" for k in range(20)] + ["x.*_tail"]}
    customers = {f"c{c}": {"budget": {"limit": 1e9, "period": "1M"}} for c in range(8)}
    teams = {
        f"t{t:02d}": {"customer": f"c{t % 8}", "tool_groups": [f"g{t:03d}"], "budget": {"limit": 1e9, "period": "1M"}}
        for t in range(40)
    }
    teams["t00"]["tool_groups"] = ["narrow"]
    env: dict[str, str] = {}
    keys: dict[str, Any] = {}
    for k in range(2000):
        env[f"K{k}"] = f"key-{k:05d}-" + "x" * 32
        keys[f"user{k}"] = {"key": f"${{K{k}}}", "team": f"t{k % 40:02d}", "tool_groups": [f"g{(k * 7) % 198:03d}"]}
    env["BENCH_KEY"] = "bench-" + "b" * 40
    keys["bench"] = {
        "key": "${BENCH_KEY}",
        "team": "t00",
        "tool_groups": ["wide"],
        "rate_limit": {"requests": 10**12, "tokens": 10**12, "period": "1m"},
    }
    data = {"tool_groups": groups, "customers": customers, "teams": teams, "virtual_keys": keys}
    return data, env


def catalog() -> list[CatalogTool]:
    return [
        CatalogTool(f"s{s:02d}", f"op_{t:03d}", f"s{s:02d}__op_{t:03d}")
        for s in range(SERVERS)
        for t in range(TOOLS_PER_SERVER)
    ]


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    samples = sorted(samples_ns)
    p50 = statistics.median(samples) / 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000
    return p50, p99


async def measure(gov: Governance, credential: str, tools: list[CatalogTool], n: int) -> dict[str, tuple[float, float]]:
    """Per-request timings (us) of authenticate + allows + check_limits, and of charge on top."""
    probe = [(t.server, t.name) for t in tools[::7]]

    async def check_path(i: int) -> None:
        identity = gov.authenticate(credential)
        server, tool = probe[i % len(probe)]
        identity.allows(server, tool)
        await gov.check_limits(identity)

    async def admit_path(i: int) -> None:
        identity = gov.authenticate(credential)
        server, tool = probe[i % len(probe)]
        identity.allows(server, tool)
        await gov.charge(identity, tokens=10, cost=0.001)

    results = {}
    for name, path in (("authenticate+view+check_limits", check_path), ("authenticate+view+charge", admit_path)):
        results[name] = percentiles(await run_many(path, n))
    return results


async def run_many(path: Callable[[int], Awaitable[None]], n: int) -> list[int]:
    for i in range(min(n, 2000)):  # warm-up: memo, window cache, connections
        await path(i)
    samples: list[int] = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        await path(i)
        samples.append(clock() - start)
    return samples


def list_timings(gov: Governance, credential: str, tools: list[CatalogTool]) -> dict[str, tuple[float, float]]:
    """Filtering the catalog to the key's view: cold (fresh compile, no memo) and warm."""
    data, env = build_config()
    cold: list[int] = []
    for _ in range(5):
        fresh = asyncio.run(Governance.from_config(parse_config(data, "bench", env), env=env))
        view = fresh.authenticate(credential).view
        assert view is not None
        start = time.perf_counter_ns()
        visible = view.filter(tools)
        cold.append(time.perf_counter_ns() - start)
    assert len(visible) == 500, len(visible)
    view = gov.authenticate(credential).view
    assert view is not None
    warm: list[int] = []
    for _ in range(200):
        start = time.perf_counter_ns()
        view.filter(tools)
        warm.append(time.perf_counter_ns() - start)
    return {"cold (first listing after a reload)": percentiles(cold), "warm (memoised)": percentiles(warm)}


def start_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    proc.kill()
    return None


async def bench_store(store: CounterStore, n: int) -> dict[str, tuple[float, float]]:
    data, env = build_config()
    gov = await Governance.from_config(parse_config(data, "bench", env), counters=store, env=env)
    try:
        return await measure(gov, env["BENCH_KEY"], catalog(), n)
    finally:
        await store.aclose()


def report(title: str, rows: dict[str, tuple[float, float]], target_us: float | None = None) -> None:
    print(f"\n{title}")
    for name, (p50, p99) in rows.items():
        mark = "" if target_us is None else ("  ok" if p50 <= target_us else f"  OVER target {target_us:g} us")
        print(f"  {name:<40} p50 {p50:9.1f} us   p99 {p99:9.1f} us{mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    args = parser.parse_args()

    data, env = build_config()
    started = time.perf_counter()
    gov = asyncio.run(Governance.from_config(parse_config(data, "bench", env), env=env))
    build_ms = (time.perf_counter() - started) * 1000
    print(
        f"config: {len(data['virtual_keys'])} keys, {len(data['tool_groups'])} groups, "
        f"{SERVERS * TOOLS_PER_SERVER} catalog tools; validate + build: {build_ms:.0f} ms"
    )
    report("in-memory store", asyncio.run(bench_store(MemoryCounterStore(), args.requests)), 50)

    redis_proc = None
    url = args.redis_url
    if url is None:
        started_redis = start_redis()
        if started_redis is not None:
            redis_proc, url = started_redis
    if url is None:
        print("\nredis store: skipped (redis-server not installed; pass --redis-url)")
    else:
        from mcp_gateway.governance.redis_counters import RedisCounterStore

        try:
            store = RedisCounterStore.from_url(url, prefix=f"bench:{time.time_ns()}:")
            report(f"redis store ({url})", asyncio.run(bench_store(store, max(2000, args.requests // 4))), 1000)
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)

    report("tools/list filter: 5,000 catalog tools -> 500-tool view", list_timings(gov, env["BENCH_KEY"], catalog()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
