"""Fixtures for the governance tests: configs from YAML text, a fake clock, counter stores.

`counter_store` runs each test once on the in-memory store and once on Redis. The Redis server is
a real `redis-server` on a free loopback port (no persistence), started once per session and
stopped at the end; when the binary is missing those cases skip and say how to install it.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping

import pytest
import yaml

from mcp_gateway.config import GatewayConfig, parse_config
from mcp_gateway.governance import CounterStore, MemoryCounterStore
from mcp_gateway.governance.redis_counters import RedisCounterStore

REDIS_MISSING = "redis-server is not installed (apt-get install -y redis-server); CI must install it"


def load(text: str, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Parse YAML text the way the gateway does (interpolation included)."""
    return parse_config(yaml.safe_load(text), "test.yaml", env or {})


class FakeClock:
    """A settable clock: tests move time explicitly instead of sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """Starts at 2024-02-29 12:00:00 UTC (a leap day, mid-window for every period)."""
    return FakeClock(1_709_208_000.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(binary: str) -> tuple[subprocess.Popen[bytes], int]:
    for _ in range(3):  # the free port may be taken between probing and binding: try again
        port = _free_port()
        args = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            "",
            "--daemonize",
            "no",
        ]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        output = b""
        # Readiness comes from the server's own log line, not from polling or sleeping.
        while time.monotonic() < deadline and proc.poll() is None:
            if selector.select(timeout=deadline - time.monotonic()):
                line = proc.stdout.readline()
                output += line
                if b"Ready to accept connections" in line:
                    selector.close()
                    return proc, port
        selector.close()
        proc.kill()
        proc.wait(timeout=5)
    raise RuntimeError(f"redis-server did not start: {output.decode(errors='replace')}")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`redis://127.0.0.1:<port>/0` of a private redis-server for this session."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):  # in CI a missing server is a broken setup, not a reason to skip
            pytest.fail(REDIS_MISSING, pytrace=False)
        pytest.skip(REDIS_MISSING)
    proc, port = _start_redis(binary)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(params=["memory", "redis"])
async def counter_store(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    """Each store in turn; Redis keys get a fresh prefix per test so tests never share counters."""
    if request.param == "memory":
        yield MemoryCounterStore()
        return
    url = request.getfixturevalue("redis_url")
    store = RedisCounterStore.from_url(url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture
def env() -> dict[str, str]:
    """Environment for config interpolation, separate from the real one."""
    return {"RAHUL_KEY": "rahul-" + "r" * 32, "ANNA_KEY": "anna-" + "a" * 32, "BOB_KEY": "bob-" + "b" * 32}


EXAMPLE = """
tool_groups:
  readers:  {tools: ["filesystem.read_*", "time.*"]}
  platform:
    tools: ["deploy.*"]
    approval: review
    rate_limit: {requests: 3, period: 1m}
    cost: 0.5
    tool_costs: {"deploy.prod_*": 2.0, "deploy.prod_db": 5.0}
  search:   {tools: ["web.search", "docs.*"], code_mode: true}
  github:   {tools: ["github.*"], code_mode: false, approval: deny}
customers:
  acme: {tool_groups: [search], budget: {limit: 5000, period: 1M}}
teams:
  backend: {customer: acme, tool_groups: [readers], budget: {limit: 2000, period: 1M}}
  data: {customer: acme}
virtual_keys:
  rahul: {key: "${RAHUL_KEY}", team: backend, tool_groups: [platform],
          blocked_tools: ["deploy.rollback"], rate_limit: {requests: 60, period: 1m}}
  anna: {key: "${ANNA_KEY}", team: data, allowed_tools: ["github.get_*"]}
  bob: {key: "${BOB_KEY}"}
"""
"""Three keys at every level: rahul (key + team + customer groups), anna (customer group plus
extra tools), bob (nothing: deny by default)."""
