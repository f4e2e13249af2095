"""What audit logging costs a tool call: the same gateway with `logging.enabled` on and off, in one run.

Two `mcp-gateway serve` processes with identical configs but for `logging.enabled` (on: SQLite in
a data directory, the default store) sit in front of one demo server over streamable HTTP. The
`mcp` SDK client calls `add` through each, alternating on/off rounds so drift on this shared
machine hits both alike, at concurrency 1 and 32. Prints p50/p99 latency and throughput per
setting, and the ratio on/off (target: at most 1.05 at concurrency 32). Then runs the store
benchmark (`benchmarks/log_store_bench.py`) for write throughput per store.

    python -m benchmarks.logging_overhead [--calls 800] [--rounds 3] [--no-stores]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

from benchmarks.gateway_latency import ROOT, free_port, http_client, measure, pct, start, stop, wait_http

KEY = "bench-key"


def start_gateway(workdir: Path, upstream_port: int, *, logging: bool) -> tuple[subprocess.Popen[bytes], int]:
    """A gateway process over the demo upstream; returns it and its port once ready."""
    port = free_port()
    config = workdir / f"gw-{'on' if logging else 'off'}.yaml"
    config.write_text(
        f"gateway: {{api_key: {KEY}}}\n"
        f"logging: {{enabled: {str(logging).lower()}}}\n"
        "servers:\n"
        f"  web: {{transport: http, url: 'http://127.0.0.1:{upstream_port}/mcp'}}\n"
    )
    data = workdir / f"data-{'on' if logging else 'off'}"
    data.mkdir()
    argv = [sys.executable, "-m", "mcp_gateway", "--log-level", "WARNING", "serve", "--config", str(config)]
    proc = start([*argv, "--port", str(port)], env={**os.environ, "MCP_GATEWAY_DATA_DIR": str(data)})
    wait_http(f"http://127.0.0.1:{port}/readyz")
    return proc, port


async def run(calls: int, rounds: int) -> None:
    upstream_port = free_port()
    demo = start([sys.executable, "-m", "examples.demo_server", "http", str(upstream_port)])
    workdir = Path(tempfile.mkdtemp(prefix="gw-logbench-"))
    procs = []
    try:
        on, on_port = start_gateway(workdir, upstream_port, logging=True)
        procs.append(on)
        off, off_port = start_gateway(workdir, upstream_port, logging=False)
        procs.append(off)
        headers = {"Authorization": f"Bearer {KEY}"}
        clients = {
            "on": http_client(f"http://127.0.0.1:{on_port}/mcp", headers),
            "off": http_client(f"http://127.0.0.1:{off_port}/mcp", headers),
        }
        print(f"tools/call `web__add` through the gateway, {calls} calls x {rounds} rounds per cell; ms")
        print(f"{'concurrency':<12} {'logging':<8} {'p50':>8} {'p99':>8} {'calls/s':>9}")
        for conc in (1, 32):
            latencies: dict[str, list[float]] = {"on": [], "off": []}
            seconds = {"on": 0.0, "off": 0.0}
            for _ in range(rounds):
                for setting in ("off", "on"):
                    t0 = time.perf_counter()
                    latencies[setting] += await measure(clients[setting], "web__add", conc, calls, calls // 8)
                    seconds[setting] += time.perf_counter() - t0
            rate = {s: len(latencies[s]) / seconds[s] for s in latencies}
            for setting in ("off", "on"):
                values = latencies[setting]
                print(f"{conc:<12} {setting:<8} {pct(values, 0.5):8.2f} {pct(values, 0.99):8.2f} {rate[setting]:9.0f}")
            p50_ratio = pct(latencies["on"], 0.5) / pct(latencies["off"], 0.5)
            print(f"{conc:<12} {'on/off':<8} {p50_ratio:7.3f}x {'':>8} {rate['off'] / rate['on']:8.3f}x")
        print(f"(on = SQLite log store, batched writer; off = logging.enabled false; cpus: {os.cpu_count()})")
        records = (workdir / "data-on" / "logs.db").stat().st_size
        print(f"log database after the run: {records / 1e6:.1f} MB")
    finally:
        for proc in procs:
            stop(proc)
        stop(demo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-stores", action="store_true", help="skip the store write-throughput benchmark")
    args = parser.parse_args()
    anyio.run(run, args.calls, args.rounds)
    if not args.no_stores:
        print()
        subprocess.run([sys.executable, "-m", "benchmarks.log_store_bench", "--records", "20000"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
