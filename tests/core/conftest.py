"""Fixtures for the gateway core tests: the demo server on every upstream transport."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.harness import python_server
from tests.fixtures.processes import free_port, running, start_process, wait_for_port

UPSTREAM_TRANSPORTS = ("inprocess", "stdio", "http", "sse")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _demo_over_network(kind: str, log_dir: Path) -> Iterator[str]:
    port = free_port()
    proc = start_process(
        f"demo-{kind}", [sys.executable, "-m", "examples.demo_server", kind, str(port)], log_dir=log_dir
    )
    with running(proc):
        wait_for_port(port, timeout=20, abort=proc.exit_reason)
        yield f"http://127.0.0.1:{port}/{'mcp' if kind == 'http' else 'sse'}"


@pytest.fixture(scope="session")
def demo_http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo server over streamable HTTP on loopback."""
    yield from _demo_over_network("http", tmp_path_factory.mktemp("demo-http"))


@pytest.fixture(scope="session")
def demo_sse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo server over legacy SSE on loopback."""
    yield from _demo_over_network("sse", tmp_path_factory.mktemp("demo-sse"))


@pytest.fixture(params=UPSTREAM_TRANSPORTS)
def demo_upstream(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Config of the demo server as an upstream, once per upstream transport."""
    kind = request.param
    if kind == "inprocess":
        return {"transport": "inprocess", "target": "examples.demo_server:mcp"}
    if kind == "stdio":
        return python_server("examples.demo_server")
    url = request.getfixturevalue("demo_http_url" if kind == "http" else "demo_sse_url")
    return {"transport": kind, "url": url}
