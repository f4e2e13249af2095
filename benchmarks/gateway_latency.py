"""tools/call latency through the gateway against direct calls to the same upstream, in one run.

Upstreams: the demo server over streamable HTTP and over stdio. For each, the same `mcp` SDK
client code calls `add` directly and through a gateway running as its own process
(`mcp-gateway serve`), at concurrency 1 and 32 (one client session per concurrent worker).
Prints p50/p99, the ratio, the added milliseconds and the gateway process's CPU per call.

The machines are noisy, so the two sides are measured in alternating rounds on sessions that
stay open (direct, gateway, gateway, direct, ...): both see the same conditions, and the CPU
figure covers the gateway's calls only, not session setup.

    python benchmarks/gateway_latency.py [--calls 1000] [--rounds 10] [--warmup 50]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start(argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw
    )  # type: ignore[call-overload]


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


ClientFactory = Callable[[], AbstractAsyncContextManager[Client]]


def http_client(url: str, headers: dict[str, str] | None = None) -> ClientFactory:
    @asynccontextmanager
    async def factory() -> AsyncIterator[Client]:
        async with (
            httpx2.AsyncClient(headers=headers or {}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            yield client

    return factory


def stdio_client() -> ClientFactory:
    params = StdioServerParameters(command=sys.executable, args=["-m", "examples.demo_server"], cwd=str(ROOT))
    return lambda: Client(params)


async def measure(factory: ClientFactory, tool: str, concurrency: int, calls: int, warmup: int) -> list[float]:
    """Per-call latencies (ms) of `concurrency` sessions calling `tool` together, warm-up excluded."""
    latencies: list[float] = []
    per_worker = max(1, calls // concurrency)
    warm = max(1, warmup // concurrency)
    all_warm = anyio.Event()
    warmed = [0]

    async def worker() -> None:
        async with factory() as client:
            for _ in range(warm):
                await client.call_tool(tool, {"a": 1, "b": 2})
            warmed[0] += 1
            if warmed[0] == concurrency:
                all_warm.set()
            await all_warm.wait()  # measure only while every session is up and busy
            for _ in range(per_worker):
                t0 = time.perf_counter()
                await client.call_tool(tool, {"a": 1, "b": 2})
                latencies.append((time.perf_counter() - t0) * 1000)

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    return latencies


async def burst(clients: list[Client], tool: str, per_client: int, latencies: list[float] | None) -> None:
    """Every client makes `per_client` calls, all clients at once; latencies (ms) go to `latencies`."""

    async def worker(client: Client) -> None:
        for _ in range(per_client):
            t0 = time.perf_counter()
            await client.call_tool(tool, {"a": 1, "b": 2})
            if latencies is not None:
                latencies.append((time.perf_counter() - t0) * 1000)

    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(worker, client)


async def compare(
    direct: tuple[ClientFactory, str],
    via: tuple[ClientFactory, str],
    *,
    concurrency: int,
    calls: int,
    rounds: int,
    warmup: int,
    gateway_pid: int,
) -> tuple[list[float], list[float], float]:
    """Direct and gateway latencies (ms) from alternating rounds, and the gateway's CPU ms per call."""
    async with AsyncExitStack() as stack:
        sides = []
        for factory, tool in (direct, via):
            clients = [await stack.enter_async_context(factory()) for _ in range(concurrency)]
            await burst(clients, tool, max(1, warmup // concurrency), None)
            sides.append((clients, tool))
        direct_ms: list[float] = []
        via_ms: list[float] = []
        cpu = 0.0
        per_client = max(1, calls // rounds // concurrency)
        for round_no in range(rounds):
            for side in (0, 1) if round_no % 2 == 0 else (1, 0):
                clients, tool = sides[side]
                if side == 0:
                    await burst(clients, tool, per_client, direct_ms)
                else:
                    before = cpu_ms(gateway_pid)
                    await burst(clients, tool, per_client, via_ms)
                    cpu += cpu_ms(gateway_pid) - before
        return direct_ms, via_ms, cpu / len(via_ms)


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process, in ms (Linux /proc); robust to other load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, direct: list[float], via: list[float], cpu: float) -> str:
    d50, d99, g50, g99 = pct(direct, 0.5), pct(direct, 0.99), pct(via, 0.5), pct(via, 0.99)
    return (
        f"{label:<22} {d50:8.2f} {d99:8.2f} {g50:9.2f} {g99:9.2f} {g50 / d50:7.2f}x {g50 - d50:+9.2f} {g99 - d99:+9.2f}"
        f" {cpu:8.2f}"
    )


async def run(calls: int, rounds: int, warmup: int) -> None:
    http_port, gw_port = free_port(), free_port()
    demo = start([sys.executable, "-m", "examples.demo_server", "http", str(http_port)])
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    config = workdir / "gw.yaml"
    config.write_text(
        f"gateway: {{api_key: {KEY}}}\n"
        "servers:\n"
        f"  web: {{transport: http, url: 'http://127.0.0.1:{http_port}/mcp'}}\n"
        f"  local: {{transport: stdio, command: {sys.executable}, args: ['-m', 'examples.demo_server']}}\n"
    )
    gateway = start(
        [
            sys.executable,
            "-m",
            "mcp_gateway",
            "--log-level",
            "WARNING",
            "serve",
            "--config",
            str(config),
            "--port",
            str(gw_port),
        ],
        env={**os.environ, "MCP_GATEWAY_DATA_DIR": str(workdir)},
    )
    try:
        wait_http(f"http://127.0.0.1:{gw_port}/readyz")
        via = http_client(f"http://127.0.0.1:{gw_port}/mcp", {"Authorization": f"Bearer {KEY}"})
        print(f"tools/call `add`, {calls} calls per side and cell in {rounds} alternating rounds; ms")
        print(
            f"{'upstream / concurrency':<22} {'dir p50':>8} {'dir p99':>8} {'gw p50':>9} {'gw p99':>9} "
            f"{'ratio':>8} {'added p50':>9} {'added p99':>9} {'gw CPU':>8}"
        )
        for label, direct_factory, prefix in (
            ("http", http_client(f"http://127.0.0.1:{http_port}/mcp"), "web__"),
            ("stdio", stdio_client(), "local__"),
        ):
            for conc in (1, 32):
                direct, gw, cpu = await compare(
                    (direct_factory, "add"),
                    (via, prefix + "add"),
                    concurrency=conc,
                    calls=calls,
                    rounds=rounds,
                    warmup=warmup,
                    gateway_pid=gateway.pid,
                )
                print(row(f"{label} / {conc}", direct, gw, cpu), flush=True)
        print(f"(median of per-call latencies; gateway = `mcp-gateway serve` process, python {sys.version.split()[0]})")
        print("gw CPU: the gateway process's CPU per call (ms), from /proc")
        print(f"stdio direct spawns one server process per client session; cpus: {os.cpu_count()}")
    finally:
        stop(gateway)
        stop(demo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="calls per side and cell")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per cell")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    anyio.run(run, args.calls, args.rounds, args.warmup)


if __name__ == "__main__":
    main()
