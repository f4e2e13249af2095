"""Counters in Redis, shared by several gateway instances.

`charge` is one Lua script: Redis runs scripts atomically, so testing every counter and growing
all of them is a single step however many instances charge at once. Reads are one `MGET`.
Counters expire on their own a little after their window ends.

Needs the optional `redis` package (`pip install mcp-gateway[redis]`), so the package root does not
import this module: use `from mcp_gateway.governance.redis_counters import RedisCounterStore`.

All keys of one charge must live on one node: a single Redis (or Sentinel) works; Redis Cluster
needs every key in one hash slot, which this store does not arrange (yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mcp_gateway.governance.counters import ChargeOutcome, CounterCharge, CounterStoreUnavailable

__all__ = ["RedisCounterStore"]

# Connection-level failures mean "unavailable"; anything else (a script error) surfaces as itself.
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# KEYS: counters. ARGV[1]: "1" to enforce. Then per key i, at ARGV[2 + 4*(i-1)]:
# amount, limit, strict ("1"/"0"), ttl in ms. Mirrors `counters.exhausted`.
# Values travel as strings: Redis would truncate Lua numbers in replies to integers.
_CHARGE = """
local enforce = ARGV[1] == '1'
local n = #KEYS
if enforce then
  for i = 1, n do
    local base = 2 + 4 * (i - 1)
    local used = tonumber(redis.call('GET', KEYS[i]) or '0')
    local amount = tonumber(ARGV[base])
    local limit = tonumber(ARGV[base + 1])
    local strict = ARGV[base + 2] == '1'
    if (strict and used + amount > limit) or ((not strict) and used >= limit) then
      return {'0', tostring(i - 1), tostring(used)}
    end
  end
end
local out = {'1'}
for i = 1, n do
  local base = 2 + 4 * (i - 1)
  local value
  if tonumber(ARGV[base]) ~= 0 then
    value = redis.call('INCRBYFLOAT', KEYS[i], ARGV[base])
    redis.call('PEXPIRE', KEYS[i], ARGV[base + 3])
  else
    value = redis.call('GET', KEYS[i]) or '0'
  end
  out[#out + 1] = value
end
return out
"""


def _float(value: Any) -> float:
    if value is None:
        return 0.0
    return float(value.decode() if isinstance(value, bytes) else value)


class RedisCounterStore:
    """A `CounterStore` on a `redis.asyncio.Redis` client; keys are prefixed with `prefix`."""

    def __init__(self, client: Any, *, prefix: str = "mcpgw:limits:", owns_client: bool = False) -> None:
        self._client = client
        self._prefix = prefix
        self._owns_client = owns_client
        self._script = client.register_script(_CHARGE)

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = "mcpgw:limits:", max_connections: int = 64, timeout_s: float = 5.0
    ) -> RedisCounterStore:
        """Connect to `redis://host:port/db` lazily. The pool blocks (up to `timeout_s`) when all
        `max_connections` are busy instead of failing, so bursts queue rather than error."""
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=timeout_s)
        return cls(aioredis.Redis(connection_pool=pool), prefix=prefix, owns_client=True)

    async def read(self, keys: Sequence[str]) -> list[float]:
        """Current values (0 for missing keys), in one `MGET`."""
        if not keys:
            return []
        try:
            values = await self._client.mget([self._prefix + key for key in keys])
        except _UNREACHABLE as exc:
            raise CounterStoreUnavailable(f"counter store unreachable: {exc}") from exc
        return [_float(value) for value in values]

    async def charge(self, charges: Sequence[CounterCharge], *, enforce: bool = True) -> ChargeOutcome:
        """Test and grow every counter in one atomic script run."""
        if not charges:
            return ChargeOutcome(True)
        args: list[str] = ["1" if enforce else "0"]
        for item in charges:
            ttl_ms = max(1, int(item.ttl_s * 1000))
            args += [
                repr(float(item.amount)),
                repr(float(item.limit)),
                "1" if item.strict else "0",
                str(ttl_ms),
            ]
        try:
            reply = await self._script(keys=[self._prefix + item.key for item in charges], args=args)
        except _UNREACHABLE as exc:
            raise CounterStoreUnavailable(f"counter store unreachable: {exc}") from exc
        if _float(reply[0]) == 1:
            return ChargeOutcome(True, tuple(_float(value) for value in reply[1:]))
        return ChargeOutcome(False, refused=int(_float(reply[1])), refused_used=_float(reply[2]))

    async def aclose(self) -> None:
        """Close the client if this store created it."""
        if self._owns_client:
            await self._client.aclose(close_connection_pool=True)
