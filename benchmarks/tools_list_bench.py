"""`tools/list` latency through the gateway for a key whose view holds 500 of 5,000 tools.

An in-process upstream serves 5,000 tools (ten families of 500, realistic schemas); one virtual
key is granted one family by a tool group, another key everything. Both list over `/mcp` with the
`mcp` SDK client against a gateway running as its own process. Prints p50/p99 in ms.

    python benchmarks/tools_list_bench.py [--runs 200]
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
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server

ROOT = Path(__file__).resolve().parents[1]
FAMILIES, PER_FAMILY = 10, 500


def _tool(family: int, index: int) -> types.Tool:
    return types.Tool(
        name=f"f{family}_tool_{index:03d}",
        description=f"Operation {index} of family {family}: reads or updates one record and returns it.",
        input_schema={
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "Record id."},
                "fields": {"type": "array", "items": {"type": "string"}, "description": "Fields to return."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                "mode": {"type": "string", "enum": ["fast", "full"]},
            },
            "required": ["id"],
        },
    )


_TOOLS = [_tool(f, i) for f in range(FAMILIES) for i in range(PER_FAMILY)]


async def _list(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=_TOOLS)


async def _call(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])


big: Server[Any] = Server("big", on_list_tools=_list, on_call_tool=_call)
"""The upstream, imported by the gateway as `benchmarks.tools_list_bench:big`."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cpu_ms(pid: int) -> float:
    """User + system CPU time of a process, in ms (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def _measure(url: str, key: str, runs: int) -> tuple[int, list[float]]:
    times: list[float] = []
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        count = len((await client.list_tools()).tools)
        for _ in range(runs):
            t0 = time.perf_counter()
            await client.list_tools()
            times.append((time.perf_counter() - t0) * 1000)
    return count, sorted(times)


def start_gateway(port: int) -> subprocess.Popen[bytes]:
    """The gateway as its own process, over the in-process 5,000-tool upstream; waits until ready."""
    workdir = Path(tempfile.mkdtemp(prefix="tools-list-bench-"))
    config = workdir / "gw.yaml"
    config.write_text(
        "admin_key: bench-admin\n"
        "servers:\n  big: {transport: inprocess, target: 'benchmarks.tools_list_bench:big'}\n"
        "tool_groups:\n  one_family: {tools: ['big.f3_*']}\n  everything: {tools: ['big.*']}\n"
        "virtual_keys:\n  narrow: {key: narrow-key, tool_groups: [one_family]}\n"
        "  wide: {key: wide-key, tool_groups: [everything]}\n"
    )
    env = {**os.environ, "MCP_GATEWAY_DATA_DIR": str(workdir), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "mcp_gateway", "--log-level", "WARNING", "serve", "--config", str(config)]
    gateway = subprocess.Popen(
        [*argv, "--port", str(port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return gateway
        except httpx2.HTTPError:
            pass
        if time.monotonic() > deadline:
            os.killpg(gateway.pid, signal.SIGKILL)
            raise RuntimeError("gateway did not become ready")
        time.sleep(0.1)


async def run(url: str, pid: int, runs: int) -> None:
    """Measure both keys and print the figures."""
    print(f"tools/list over /mcp, {runs} runs after one warm-up; catalog {FAMILIES * PER_FAMILY} tools")
    for key in ("narrow-key", "wide-key"):
        cpu_before = _cpu_ms(pid)
        count, times = await _measure(url, key, runs)
        cpu = (_cpu_ms(pid) - cpu_before) / (runs + 1)
        p50, p99 = times[len(times) // 2], times[min(len(times) - 1, int(0.99 * len(times)))]
        print(
            f"  key {key:<10} sees {count:>5} tools: p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
            f"gateway CPU {cpu:6.2f} ms per request (the rest is the client parsing the list)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    port = _free_port()
    gateway = start_gateway(port)
    try:
        anyio.run(run, f"http://127.0.0.1:{port}/mcp", gateway.pid, runs)
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        gateway.wait(15)


if __name__ == "__main__":
    main()
