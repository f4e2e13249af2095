"""Instructions the gateway executes per `tools/call`, counted by valgrind's callgrind.

Timings on the project's shared 2-core machines swing by 50% within minutes; instruction counts
do not. This script drives the gateway's ASGI app in-process (everything but uvicorn's HTTP
parsing) against the demo server over streamable HTTP or stdio, and counts the user-space
instructions of the gateway process per call: the difference between a run of 2N and a run of N
calls, divided by N, so start-up and shutdown cancel out. Work done by the clock rather than per
call (health checks, the config watcher, timed log flushes) is kept out of the runs: under
valgrind it would grow with how long a run took, and the count with it.

Audit logging is off by default: its writer thread, scheduled as the OS sees fit, makes counts
vary by a few % between runs, while without it two runs agree within about 1%. `--logging`
turns it on (a batch is written every 100 records) to see what it adds. Kernel work (system
calls, wake-ups) is not counted; `gateway_latency.py` measures that side.

    python -m benchmarks.call_instructions [--upstream http|stdio] [--calls 200] [--tree PATH] [--logging]

`--tree` runs another checkout's gateway (say, `git worktree add /tmp/before <commit>`), to
compare two versions on equal terms. Needs valgrind (Debian: `apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def tools_call_body(tool: str) -> bytes:
    """A stateless (2026-07-28) `tools/call` of `tool` adding 1 and 2, as a client sends it."""
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": tool,
                "arguments": {"a": 1, "b": 2},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
    ).encode()


BODY = tools_call_body("up__add")
HEADERS = [
    (b"host", b"127.0.0.1:8080"),
    (b"authorization", f"Bearer {KEY}".encode()),
    (b"content-type", b"application/json"),
    (b"accept", b"application/json, text/event-stream"),
    (b"mcp-method", b"tools/call"),
    (b"mcp-name", b"up__add"),
    (b"mcp-protocol-version", b"2026-07-28"),
    (b"content-length", str(len(BODY)).encode()),
]


async def call(app: Any) -> bytes:
    """One `tools/call` POST through the ASGI app; the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": HEADERS,
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    replied = asyncio.Event()
    body: list[bytes] = []
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await replied.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body"):
                replied.set()

    await app(scope, receive, send)
    return b"".join(body)


async def drive(calls: int, upstream: str, marker_dir: Path, logging: bool) -> None:
    """The child: start the gateway app, warm up, wait for the parent to switch counting on
    (SIGUSR1), make `calls` calls."""
    from benchmarks.gateway_latency import free_port, start, stop
    from mcp_gateway.app import create_app
    from mcp_gateway.config.loader import load_config

    port = free_port()
    demo = start([sys.executable, "-m", "examples.demo_server", "http", str(port)]) if upstream == "http" else None
    server = (
        f"{{transport: http, url: 'http://127.0.0.1:{port}/mcp'}}"
        if upstream == "http"
        else f"{{transport: stdio, command: {sys.executable}, args: ['-m', 'examples.demo_server']}}"
    )
    # Work that runs by the clock rather than per call (health checks, the config watcher, the log
    # writer's timed flushes) would make the count depend on how long valgrind took: health checks
    # are pushed out of the run, the watcher is off, and a log writer flushes every 100 records
    # (when a batch fills) instead of every 150 ms.
    server = server[:-1] + ", health: {interval_s: 3600}}"
    log_settings = "{flush_interval_ms: 60000, batch_size: 100}" if logging else "{enabled: false}"
    config = marker_dir / "gw.yaml"
    config.write_text(f"gateway: {{api_key: {KEY}}}\nservers:\n  up: {server}\nlogging: {log_settings}\n")
    try:
        app = create_app(load_config(config), data_dir=marker_dir)
        async with app.router.lifespan_context(app):
            for _ in range(600):  # until the upstream is up and listed
                if b'"result"' in await call(app):
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the upstream never answered")
            for _ in range(50):
                await call(app)
            go = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go.set)
            (marker_dir / "ready").touch()
            await go.wait()  # the parent switches counting on, then signals
            for _ in range(calls):
                await call(app)
    finally:
        if demo is not None:
            stop(demo)


def count(calls: int, upstream: str, tree: Path, *, logging: bool) -> int:
    """Instructions callgrind counts from the go signal to the end of a run of `calls` calls."""
    with tempfile.TemporaryDirectory(prefix="gw-instr-") as tmp:
        workdir = Path(tmp)
        out = workdir / "callgrind.out"
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(Path(__file__).resolve()),  # by path: an older `--tree` has no such module
            "--child",
            str(workdir),
            "--calls",
            str(calls),
            "--upstream",
            upstream,
            *(["--logging"] if logging else []),
        ]
        env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT}"}
        child = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 600
        while not (workdir / "ready").exists():
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                raise SystemExit(
                    f"the child did not get ready: {child.stderr.read().decode()[-2000:] if child.stderr else ''}"
                )
            time.sleep(0.2)
        subprocess.run(["callgrind_control", "-i", "on", str(child.pid)], check=True, capture_output=True)
        child.send_signal(signal.SIGUSR1)
        _, err = child.communicate(timeout=1200)
        if child.returncode != 0:
            raise SystemExit(f"the child failed: {err.decode()[-2000:]}")
        totals = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"no summary in {out}")
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", choices=["http", "stdio"], default="http")
    parser.add_argument("--calls", type=int, default=200, help="N: runs of N and 2N calls are compared")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose gateway is measured")
    parser.add_argument(
        "--logging",
        action="store_true",
        help="with audit logging to SQLite (the log writer's thread makes counts vary by a few %%)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        import uvloop

        uvloop.run(drive(args.calls, args.upstream, args.child, args.logging))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    tree = args.tree.resolve()
    small = count(args.calls, args.upstream, tree, logging=args.logging)
    large = count(2 * args.calls, args.upstream, tree, logging=args.logging)
    per_call = (large - small) / args.calls
    print(f"gateway at {tree}, {args.upstream} upstream: {per_call:,.0f} instructions per tools/call")
    logged = "audit logging on, log writer included" if args.logging else "audit logging off"
    print(f"(callgrind, user space, {logged}; runs of {args.calls} and {2 * args.calls} calls)")


if __name__ == "__main__":
    main()
