"""Response time of the `/ui/` pages of a real gateway (`mcp-gateway serve` in a subprocess).

    .venv/bin/python benchmarks/web_pages_bench.py [--requests 200] [--calls 60]

Makes `--calls` tool calls through `/mcp` (so the logs pages have records), logs in as the admin
through the login form like a browser, then fetches each page `--requests` times with curl on one
keep-alive connection and prints p50/p95 and the page size. `/healthz` is the baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-key"
KEY = "bench-key"
PAGES = ("/healthz", "/ui/approvals", "/ui/logs", "/ui/logs?limit=200", "/ui/servers", "/ui/keys")


def _config(port: int) -> str:
    return f"""
gateway: {{host: 127.0.0.1, port: {port}}}
admin_key: {ADMIN}
servers:
  demo: {{transport: inprocess, target: "examples.demo_server:mcp"}}
tool_groups:
  all: {{tools: ["demo.*"]}}
virtual_keys:
  bench: {{key: {KEY}, tool_groups: [all]}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _make_calls(url: str, count: int) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
    ):
        for n in range(count):
            await client.call_tool("demo__add", {"a": n, "b": 1})


def _curl(*args: str) -> str:
    return subprocess.run(["curl", "-s", *args], capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        config, jar = Path(tmp) / "gateway.yaml", str(Path(tmp) / "cookies.txt")
        config.write_text(_config(port))
        gateway = subprocess.Popen(
            [sys.executable, "-m", "mcp_gateway", "serve", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while subprocess.run(["curl", "-sf", f"{url}/readyz"], check=False, capture_output=True).returncode != 0:
                if time.monotonic() > deadline:
                    raise SystemExit("the gateway did not get ready within 30 s")
                time.sleep(0.1)
            anyio.run(_make_calls, url, args.calls)
            time.sleep(0.5)  # the log writer flushes every 150 ms
            form = _curl("-c", jar, f"{url}/ui/login")
            found = re.search(r'name="login_token" value="([^"]+)"', form)
            assert found is not None, "no login form"
            _curl("-b", jar, "-c", jar, "-o", "/dev/null", "--data-urlencode", f"key={ADMIN}",
                  "--data-urlencode", f"login_token={found.group(1)}", f"{url}/ui/login")  # fmt: skip
            print(f"{args.requests} GETs per page, one keep-alive connection (curl), {args.calls} calls logged")
            for path in PAGES:
                out = _curl("-b", jar, "-w", "%{http_code} %{time_total} %{size_download}\n",
                            *(["-o", "/dev/null", f"{url}{path}"] * args.requests))  # fmt: skip
                rows = [line.split() for line in out.splitlines() if line]
                bad = [row for row in rows if row[0] != "200"]
                assert not bad, f"{path}: {bad[0]}"
                times = sorted(float(row[1]) * 1000 for row in rows)
                p95 = times[int(len(times) * 0.95) - 1]
                size = int(rows[-1][2]) / 1024
                print(f"{path:20s} p50 {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   {size:5.1f} KiB")
        finally:
            gateway.kill()
            gateway.wait()


if __name__ == "__main__":
    main()
