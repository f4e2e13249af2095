"""Counter stores behind the limits engine: the Protocol and the in-memory default.

A store knows nothing about rules or periods. The engine hands it counter keys (which embed the
window start, so a new window is a new key and "reset" needs no work) with an amount, a limit and
a time to live. `charge` is all-or-nothing across every key it is given: either no counter is
exhausted and all of them grow, or none does. That single atomic step is what bounds overshoot
under concurrency to one charge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from mcp_gateway.errors import GatewayError

__all__ = [
    "ChargeOutcome",
    "CounterCharge",
    "CounterStore",
    "CounterStoreUnavailable",
    "MemoryCounterStore",
    "exhausted",
]


class CounterStoreUnavailable(GatewayError):
    """The counter store cannot be reached (Redis down). The caller decides: 503, or fail open."""


class CounterCharge(NamedTuple):
    """One counter to test and grow (a tuple: several are built per request).

    `strict` counters (request counts) refuse when `used + amount > limit`, so they never
    overshoot. The others (tokens, money, often known only after the work is done) refuse once
    `used >= limit`, so a single charge may cross the limit and the next one is refused.
    """

    key: str
    amount: float
    limit: float
    strict: bool
    ttl_s: float


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What `charge` did: the new values if admitted, else which counter refused at what value."""

    admitted: bool
    values: tuple[float, ...] = ()
    refused: int | None = None
    refused_used: float = 0.0


def exhausted(used: float, amount: float, limit: float, strict: bool) -> bool:
    """The admission test every store applies (Redis mirrors it in Lua)."""
    return used + amount > limit if strict else used >= limit


class CounterStore(Protocol):
    """Where counters live. Implementations: `MemoryCounterStore`, `RedisCounterStore`."""

    async def read(self, keys: Sequence[str]) -> list[float]:
        """Current values (0 for missing keys), in order."""
        ...

    async def charge(self, charges: Sequence[CounterCharge], *, enforce: bool = True) -> ChargeOutcome:
        """Atomically: if `enforce` and any counter is exhausted, change nothing and say which;
        otherwise add every amount and return the new values."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


_SWEEP_EVERY = 4096  # charges between sweeps of expired counters; amortises the O(n) scan


class MemoryCounterStore:
    """Counters in a dict, for one process. A lock makes `charge` atomic across threads too."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, list[float]] = {}  # key -> [value, expires_at]
        self._lock = threading.Lock()
        self._since_sweep = 0

    async def read(self, keys: Sequence[str]) -> list[float]:
        """Current values (0 for missing or expired keys)."""
        now = self._clock()
        out: list[float] = []
        for key in keys:
            slot = self._values.get(key)
            out.append(slot[0] if slot is not None and slot[1] > now else 0.0)
        return out

    async def charge(self, charges: Sequence[CounterCharge], *, enforce: bool = True) -> ChargeOutcome:
        """Test and grow every counter under one lock."""
        now = self._clock()
        with self._lock:
            slots: list[list[float]] = []
            for index, item in enumerate(charges):
                slot = self._values.get(item.key)
                if slot is None or slot[1] <= now:
                    slot = [0.0, now + item.ttl_s]
                if enforce and exhausted(slot[0], item.amount, item.limit, item.strict):
                    return ChargeOutcome(False, refused=index, refused_used=slot[0])
                slots.append(slot)
            for item, slot in zip(charges, slots, strict=True):
                slot[0] += item.amount
                slot[1] = max(slot[1], now + item.ttl_s)
                self._values[item.key] = slot
            self._since_sweep += 1
            if self._since_sweep >= _SWEEP_EVERY:
                self._sweep(now)
            return ChargeOutcome(True, tuple(slot[0] for slot in slots))

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        for key in [k for k, slot in self._values.items() if slot[1] <= now]:
            del self._values[key]

    async def aclose(self) -> None:
        """Nothing to release."""
