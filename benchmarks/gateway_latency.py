"""tools/call latency through the gateway against direct calls to the same upstream, in one run.

Upstreams: the demo server over streamable HTTP and over stdio. For each, the same `mcp` SDK
client code calls `add` directly and through a gateway running as its own process
(`mcp-gateway serve`), at concurrency 1 and 32 (one client session per concurrent worker).
Prints p50/p99, the ratio, the added milliseconds and the gateway process's CPU per call.

The machines are noisy, so the sides are measured in alternating rounds on sessions that stay
open (direct, gateway, gateway, direct, ...): all see the same conditions, and the CPU figure
covers the gateway's calls only, not session setup. Over HTTP a third side, `passthrough.py`
(uvicorn forwarding bodies to the upstream, no gateway logic), shows what the extra process hop
alone adds on the machine at hand.

    python benchmarks/gateway_latency.py [--calls 1000] [--rounds 10] [--warmup 50] [--cells http/1,stdio/1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


NGINX_CONF = """
daemon off;
master_process off;  # one process, so its CPU is the proxy's
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    upstream demo {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://demo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:{upstream};  # the upstream checks Host (DNS rebinding)
            proxy_buffering off;
        }}
    }}
}}
"""


def start_nginx(upstream_port: int, port: int, workdir: Path) -> subprocess.Popen[bytes] | None:
    """nginx as a reverse proxy in front of the upstream (a C floor for the hop), if it is installed."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, upstream=upstream_port, port=port))
    return start([binary, "-c", str(conf), "-p", str(workdir)])


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


@dataclass
class Side:
    """One way of calling the tool: its client factory, the tool's name there, the process to meter."""

    factory: ClientFactory
    tool: str
    pid: int | None = None
    latencies: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0

    @property
    def cpu_per_call(self) -> float:
        return self.cpu_ms / max(1, len(self.latencies))


async def compare(sides: list[Side], *, concurrency: int, calls: int, rounds: int, warmup: int) -> None:
    """Fill each side's latencies (ms) and CPU from rounds that alternate their order."""
    async with AsyncExitStack() as stack:
        clients: list[list[Client]] = []
        for side in sides:
            opened = [await stack.enter_async_context(side.factory()) for _ in range(concurrency)]
            await burst(opened, side.tool, max(1, warmup // concurrency), None)
            clients.append(opened)
        per_client = max(1, calls // rounds // concurrency)
        for round_no in range(rounds):
            order = range(len(sides)) if round_no % 2 == 0 else reversed(range(len(sides)))
            for i in order:
                side = sides[i]
                before = cpu_ms(side.pid) if side.pid is not None else 0.0
                await burst(clients[i], side.tool, per_client, side.latencies)
                if side.pid is not None:
                    side.cpu_ms += cpu_ms(side.pid) - before


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


CELLS = ("http/1", "http/32", "stdio/1", "stdio/32")


async def run(calls: int, rounds: int, warmup: int, cells: tuple[str, ...] = CELLS) -> None:
    http_port, gw_port, pass_port, nginx_port = free_port(), free_port(), free_port(), free_port()
    demo = start([sys.executable, "-m", "examples.demo_server", "http", str(http_port)])
    passthrough = start(
        [sys.executable, "-m", "benchmarks.passthrough", f"http://127.0.0.1:{http_port}/mcp", str(pass_port)]
    )
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    nginx = start_nginx(http_port, nginx_port, workdir)
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
        direct_http = http_client(f"http://127.0.0.1:{http_port}/mcp")
        floor_proxies = [("passthrough", pass_port, passthrough.pid)]
        if nginx is not None:
            floor_proxies.append(("nginx", nginx_port, nginx.pid))
        for label, direct_factory, prefix in (("http", direct_http, "web__"), ("stdio", stdio_client(), "local__")):
            for conc in (1, 32):
                if f"{label}/{conc}" not in cells:
                    continue
                direct, gw = Side(direct_factory, "add"), Side(via, prefix + "add", gateway.pid)
                floors = [  # over HTTP: the hop alone, in Python (first) and in C
                    (name, Side(http_client(f"http://127.0.0.1:{port}/mcp"), "add", pid))
                    for name, port, pid in floor_proxies
                    if label == "http"
                ]
                sides = [direct, gw, *(side for _, side in floors)]
                await compare(sides, concurrency=conc, calls=calls, rounds=rounds, warmup=warmup)
                print(row(f"{label} / {conc}", direct.latencies, gw.latencies, gw.cpu_per_call), flush=True)
                for name, side in floors:
                    print(row(f"  {name}", direct.latencies, side.latencies, side.cpu_per_call), flush=True)
                if floors:
                    floor = floors[0][1]
                    own = pct(gw.latencies, 0.5) - pct(floor.latencies, 0.5)
                    own_cpu = gw.cpu_per_call - floor.cpu_per_call
                    print(f"  gateway minus passthrough: {own:+.2f} ms p50, {own_cpu:+.2f} ms CPU per call", flush=True)
        print(f"(median of per-call latencies; gateway = `mcp-gateway serve` process, python {sys.version.split()[0]})")
        print("gw CPU: the gateway process's CPU per call (ms), from /proc")
        print("passthrough: uvicorn forwarding each POST to the upstream, no gateway logic (benchmarks/passthrough.py)")
        print("nginx: nginx proxy_pass with kept-alive upstream connections (only if nginx is installed)")
        print(f"stdio direct spawns one server process per client session; cpus: {os.cpu_count()}")
    finally:
        stop(gateway)
        stop(passthrough)
        if nginx is not None:
            stop(nginx)
        stop(demo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="calls per side and cell")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per cell")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument(
        "--cells", default=",".join(CELLS), help=f"which upstream/concurrency cells to run (default: {','.join(CELLS)})"
    )
    args = parser.parse_args()
    cells = tuple(c.strip() for c in args.cells.split(",") if c.strip())
    if unknown := set(cells) - set(CELLS):
        parser.error(f"unknown cells {sorted(unknown)}; choose from {', '.join(CELLS)}")
    anyio.run(run, args.calls, args.rounds, args.warmup, cells)


if __name__ == "__main__":
    main()
