"""Fixtures for the governance tests: configs from YAML text, a fake clock, counter stores.

`counter_store` runs each test once on the in-memory store and once on Redis. The Redis server is
a real `redis-server` on a free loopback port (no persistence), started once per session and
stopped at the end; when the binary is missing those cases skip and say how to install it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping

import pytest
import yaml

from mcp_gateway.config import GatewayConfig, parse_config
from mcp_gateway.governance import CounterStore, MemoryCounterStore
from mcp_gateway.governance.redis_counters import RedisCounterStore


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
