"""Upstream faults: crashes mid-call, servers that vanish and return, and clean shutdown."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import anyio
import mcp_types as types
import pytest

from mcp_gateway.upstream.connection import UpstreamState
from tests.core.harness import connect, python_server, running_gateway
from tests.fixtures.gateway import start_gateway
from tests.fixtures.processes import alive, descendants, free_port, running, start_process, wait_for_port

FAST_HEALTH = {
    "interval_s": 0.2,
    "timeout_s": 1.0,
    "failures_before_unhealthy": 2,
    "backoff_initial_s": 0.1,
    "backoff_max_s": 0.5,
}


def _demo_children() -> list[int]:
    """Stdio demo servers started by this process (the HTTP/SSE demo fixtures have more arguments)."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        except OSError:
            continue
        if argv[-2:] == [b"-m", b"examples.demo_server"]:
            found.append(pid)
    return found


async def test_kill_9_of_stdio_upstream_during_a_call() -> None:
    before = set(_demo_children())  # stragglers of earlier tests may still be exiting
    async with running_gateway({"demo": python_server("examples.demo_server")}) as gw, connect(gw) as client:
        upstream = gw.state.upstreams["demo"]
        in_flight = anyio.Event()
        outcome: list[tuple[types.CallToolResult, float]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            in_flight.set()

        async def slow_call() -> None:
            result = await client.call_tool("demo__sleep", {"seconds": 30}, progress_callback=on_progress)
            outcome.append((result, time.monotonic()))

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow_call)
            with anyio.fail_after(10):
                await in_flight.wait()
            [pid] = set(_demo_children()) - before
            os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()

        result, answered_at = outcome[0]
        assert answered_at - killed_at < 1.0, "the client must hear about the crash within 1 s"
        assert result.is_error
        assert isinstance(result.content[0], types.TextContent)
        assert "connection lost" in result.content[0].text

        with anyio.fail_after(5):
            await upstream.wait_for_state(UpstreamState.READY)
        assert time.monotonic() - killed_at < 5.0
        assert pid not in _demo_children()
        again = await client.call_tool("demo__add", {"a": 1, "b": 2})
        assert not again.is_error
        assert again.structured_content == {"result": 3.0}


async def test_http_upstream_disappears_and_returns(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "examples.demo_server", "http", str(port)]
    first = start_process("demo-http-1", argv, log_dir=tmp_path)
    with running(first):
        wait_for_port(port, timeout=20, abort=first.exit_reason)
        url = f"http://127.0.0.1:{port}/mcp"
        servers = {"demo": {"transport": "http", "url": url, "health": FAST_HEALTH, "timeout_s": 2}}
        async with running_gateway(servers) as gw, connect(gw) as client:
            upstream = gw.state.upstreams["demo"]
            assert upstream.state is UpstreamState.READY
            first.stop(grace=0.5)

            with anyio.fail_after(10):
                await upstream.wait_for_state(UpstreamState.UNHEALTHY, UpstreamState.RECONNECTING)
            status = upstream.status()
            assert status.last_error
            down = await client.call_tool("demo__add", {"a": 1, "b": 1})
            assert down.is_error
            assert isinstance(down.content[0], types.TextContent)
            assert "not available" in down.content[0].text or "connection lost" in down.content[0].text

            second = start_process("demo-http-2", argv, log_dir=tmp_path)
            with running(second):
                wait_for_port(port, timeout=20, abort=second.exit_reason)
                with anyio.fail_after(15):
                    await upstream.wait_for_state(UpstreamState.READY)
                back = await client.call_tool("demo__add", {"a": 1, "b": 1})
                assert not back.is_error
                assert upstream.status().reconnects >= 1


@pytest.mark.slow
def test_shutdown_leaves_no_child_processes(tmp_path: Path) -> None:
    # A shell wrapper gives the upstream a grandchild: the whole tree must go.
    wrapped = {
        "transport": "stdio",
        "command": "/bin/sh",
        "args": ["-c", f"{sys.executable} -m examples.demo_server; true"],
    }
    config = {
        "servers": {
            "direct": python_server("examples.demo_server"),
            "wrapped": wrapped,
            "time": {"transport": "stdio", "command": "mcp-server-time"},
        }
    }
    with start_gateway(config, tmp_path) as gw:
        started = gw.children()
        assert len(started) >= 4, f"expected the stdio upstreams and the grandchild, got {started}"
        pid = gw.pid
    # start_gateway's exit sent SIGTERM, required a timely exit and checked for orphans; check again.
    assert not alive(pid)
    assert [p for p in started if alive(p)] == []
