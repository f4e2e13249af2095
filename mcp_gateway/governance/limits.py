"""The limits engine: request, token and money limits per period, on any number of levels.

A *scope* is one level a request is accounted to (a key, its team, its customer, a tool group for
that key; the LLM proxy adds provider scopes the same way). Each scope carries its rules. A request
must pass every rule of every scope, and is charged to all of them in one atomic store step.

- `check` is read-only: "would this be admitted now?" (before work whose cost is unknown).
- `charge` is admit-and-count in one step. With `enforce=False` it only records usage that
  already happened (tokens and cost of a finished LLM call) and never refuses.

Request counts never overshoot. Token and money counters refuse once spent, so one charge may
cross the limit and the next is refused. Alert thresholds fire once per window, on the charge
that crosses them; hooks get an `AlertEvent` and the event is logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from mcp_gateway.errors import BudgetExceededError, PolicyError, RateLimitError
from mcp_gateway.governance.counters import CounterCharge, CounterStore, MemoryCounterStore, exhausted
from mcp_gateway.governance.durations import Period

__all__ = ["AlertEvent", "AlertHook", "LimitRule", "LimitScope", "LimitsEngine", "Metric", "Usage"]

logger = logging.getLogger("mcp_gateway.governance.limits")

Metric = Literal["requests", "tokens", "cost"]

_GRACE_S = 60.0  # counters outlive their window a little so a late read near the end still sees them


@dataclass(frozen=True, slots=True)
class LimitRule:
    """`limit` of `metric` per `period`; `alert_at` holds fractions of `limit` that raise alerts."""

    metric: Metric
    limit: float
    period: Period
    alert_at: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class LimitScope:
    """One level a request is accounted to. `counter_id` names its counters (default `level:name`)."""

    level: str
    name: str
    rules: tuple[LimitRule, ...]
    counter_id: str = ""
    plan: tuple[tuple[LimitRule, str, bool], ...] = field(init=False, repr=False, compare=False)
    """Per rule: the rule, its counter key prefix, and whether it is strict (request counts)."""

    def __post_init__(self) -> None:
        if not self.counter_id:
            object.__setattr__(self, "counter_id", f"{self.level}:{self.name}")
        # Built once here rather than per request: the hot path only appends the window start.
        plan = tuple(
            (rule, f"{self.counter_id}|{rule.metric}|{rule.period}|", rule.metric == "requests") for rule in self.rules
        )
        object.__setattr__(self, "plan", plan)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A scope's usage crossed `threshold` (a fraction) of a rule's limit in the current window."""

    level: str
    name: str
    metric: Metric
    limit: float
    used: float
    threshold: float
    period: str
    window_start: float
    resets_at: float


AlertHook = Callable[[AlertEvent], None]


@dataclass(frozen=True, slots=True)
class Usage:
    """One rule's standing in the current window, for reports and admin pages."""

    level: str
    name: str
    metric: Metric
    limit: float
    used: float
    period: str
    resets_at: float


class _Slot(NamedTuple):  # a tuple, not a dataclass: several are built per request
    scope: LimitScope
    rule: LimitRule
    charge: CounterCharge
    window_start: float
    resets_at: float


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class LimitsEngine:
    """Checks and charges scopes against a `CounterStore`; shared by the MCP side and the LLM proxy."""

    def __init__(
        self,
        store: CounterStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        alert_hooks: Iterable[AlertHook] = (),
    ) -> None:
        self.store: CounterStore = store if store is not None else MemoryCounterStore()
        self.alert_hooks: list[AlertHook] = list(alert_hooks)
        self._clock = clock
        # The last window per period object, keyed by id (hashing the dataclass costs more than the
        # lookup saves); the period is kept in the value so its id cannot be reused while cached.
        self._windows: dict[int, tuple[Period, float, float]] = {}

    def _window(self, period: Period, now: float) -> tuple[float, float]:
        cached = self._windows.get(id(period))
        if cached is not None and cached[1] <= now < cached[2]:
            return cached[1], cached[2]
        start, end = period.window(now)
        if len(self._windows) > 4096:  # rules come and go with reloads; keep the cache bounded
            self._windows.clear()
        self._windows[id(period)] = (period, start, end)
        return start, end

    def _slots(
        self, scopes: Sequence[LimitScope], now: float, requests: float, tokens: float, cost: float
    ) -> list[_Slot]:
        amounts = {"requests": requests, "tokens": tokens, "cost": cost}
        slots: list[_Slot] = []
        seen: set[str] = set()
        for scope in scopes:
            if scope.counter_id in seen:  # the same level twice would be charged twice
                continue
            seen.add(scope.counter_id)
            for rule, prefix, strict in scope.plan:
                start, end = self._window(rule.period, now)
                charge = CounterCharge(
                    f"{prefix}{int(start)}", amounts[rule.metric], rule.limit, strict, end - now + _GRACE_S
                )
                slots.append(_Slot(scope, rule, charge, start, end))
        return slots

    async def check(
        self, scopes: Sequence[LimitScope], *, requests: float = 1, tokens: float = 0, cost: float = 0.0
    ) -> None:
        """Raise `RateLimitError`/`BudgetExceededError` if `charge` would refuse now; change nothing."""
        now = self._clock()
        slots = self._slots(scopes, now, requests, tokens, cost)
        if not slots:
            return
        values = await self.store.read([slot.charge.key for slot in slots])
        for slot, used in zip(slots, values, strict=True):
            item = slot.charge
            if exhausted(used, item.amount, item.limit, item.strict):
                raise self._refusal(slot, used, now)

    async def usage(self, scopes: Sequence[LimitScope]) -> list[Usage]:
        """Where every rule of `scopes` stands now (one store read)."""
        now = self._clock()
        slots = self._slots(scopes, now, 0, 0, 0.0)
        values = await self.store.read([slot.charge.key for slot in slots]) if slots else []
        return [
            Usage(s.scope.level, s.scope.name, s.rule.metric, s.rule.limit, used, str(s.rule.period), s.resets_at)
            for s, used in zip(slots, values, strict=True)
        ]

    async def charge(
        self,
        scopes: Sequence[LimitScope],
        *,
        requests: float = 1,
        tokens: float = 0,
        cost: float = 0.0,
        enforce: bool = True,
    ) -> None:
        """Admit and count in one atomic step (or only count, with `enforce=False`)."""
        now = self._clock()
        slots = self._slots(scopes, now, requests, tokens, cost)
        if not slots:
            return
        outcome = await self.store.charge([slot.charge for slot in slots], enforce=enforce)
        if not outcome.admitted:
            assert outcome.refused is not None  # stores set it whenever they refuse
            raise self._refusal(slots[outcome.refused], outcome.refused_used, now)
        if any(slot.rule.alert_at for slot in slots):
            self._alerts(slots, outcome.values)

    def _alerts(self, slots: Sequence[_Slot], values: Sequence[float]) -> None:
        for slot, new in zip(slots, values, strict=True):
            old = new - slot.charge.amount
            for threshold in slot.rule.alert_at:
                mark = threshold * slot.rule.limit
                if old < mark <= new:  # exactly one atomic charge crosses each mark per window
                    self._emit(slot, new, threshold)

    def _emit(self, slot: _Slot, used: float, threshold: float) -> None:
        scope, rule = slot.scope, slot.rule
        event = AlertEvent(
            scope.level,
            scope.name,
            rule.metric,
            rule.limit,
            used,
            threshold,
            str(rule.period),
            slot.window_start,
            slot.resets_at,
        )
        logger.warning(
            "limit alert: %s %r used %s of %s %s per %s (%d %% threshold); resets at %s",
            event.level,
            event.name,
            _number(used),
            _number(event.limit),
            event.metric,
            event.period,
            round(threshold * 100),
            _iso(event.resets_at),
        )
        for hook in self.alert_hooks:
            try:
                hook(event)
            except Exception:  # a broken hook must not fail the request that crossed the mark
                logger.exception("limit alert hook %r failed", hook)

    @staticmethod
    def _refusal(slot: _Slot, used: float, now: float) -> PolicyError:
        rule, scope = slot.rule, slot.scope
        details: dict[str, object] = {
            "level": scope.level,
            "name": scope.name,
            "metric": rule.metric,
            "limit": _number(rule.limit),
            "used": _number(used),
            "period": str(rule.period),
            "resets_at": _iso(slot.resets_at),
            "retry_after_s": max(1, math.ceil(slot.resets_at - now)),
        }
        what = f"{scope.level} {scope.name!r}"
        if rule.metric == "cost":
            resets = details["resets_at"]
            message = f"{what} budget of {_number(rule.limit)} per {rule.period} is spent; resets at {resets}"
            return BudgetExceededError(message, **details)
        message = (
            f"{what} limit of {_number(rule.limit)} {rule.metric} per {rule.period} reached; "
            f"resets at {details['resets_at']}"
        )
        return RateLimitError(message, **details)
