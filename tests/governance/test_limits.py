"""The limits engine on both counter stores (one suite, run on memory and on a real Redis)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import anyio
import pytest

from mcp_gateway.errors import BudgetExceededError, PolicyError, RateLimitError
from mcp_gateway.governance import (
    AlertEvent,
    CounterStore,
    Governance,
    Identity,
    LimitRule,
    LimitScope,
    LimitsEngine,
    MemoryCounterStore,
    error_payload,
    parse_period,
    retry_after,
)

from .conftest import EXAMPLE, FakeClock, load

PAID = """
tool_groups:
  paid: {tools: ["svc.*"], cost: 0.3}
teams:
  t: {tool_groups: [paid], budget: {limit: 10, period: 1d}}
virtual_keys:
  k: {key: k-key, team: t, rate_limit: {requests: 50, period: 1h}}
  k2: {key: k2-key, team: t}
"""


async def make(
    text: str, env: dict[str, str], store: CounterStore, clock: FakeClock, alerts: list[AlertEvent] | None = None
) -> Governance:
    hooks = [alerts.append] if alerts is not None else []
    return await Governance.from_config(load(text, env), counters=store, clock=clock, alert_hooks=hooks, env=env)


async def used(gov: Governance, identity: Identity) -> dict[tuple[str, str], float]:
    return {(u.level, u.metric): u.used for u in await gov.usage(identity)}


async def test_request_limit_is_exact_and_names_level_limit_and_reset(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    for _ in range(60):
        await gov.charge(rahul)
    with pytest.raises(RateLimitError) as info:
        await gov.charge(rahul)
    exc = info.value
    assert exc.status == 429
    assert exc.details == {
        "level": "key",
        "name": "rahul",
        "metric": "requests",
        "limit": 60,
        "used": 60,
        "period": "1m",
        "resets_at": "2024-02-29T12:01:00Z",
        "retry_after_s": 60,
    }
    assert retry_after(exc) == 60
    body = error_payload(exc)["error"]
    assert body["type"] == "rate_limit_exceeded" and body["level"] == "key" and body["status"] == 429
    assert "resets at 2024-02-29T12:01:00Z" in body["message"]


async def test_limit_resets_exactly_at_the_boundary(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    clock.now = 1_709_208_059.5  # 12:00:59.5
    await gov.charge(rahul, requests=60)
    with pytest.raises(RateLimitError):
        await gov.check_limits(rahul)
    clock.now = 1_709_208_059.999
    with pytest.raises(RateLimitError):
        await gov.charge(rahul)
    clock.now = 1_709_208_060.0  # the next minute: a new window
    await gov.charge(rahul)
    assert (await used(gov, rahul))[("key", "requests")] == 1


async def test_budget_reset_at_month_end(env: dict[str, str], counter_store: CounterStore, clock: FakeClock) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    await gov.charge(rahul, cost=2000)
    with pytest.raises(BudgetExceededError) as info:
        await gov.charge(rahul, cost=1)
    assert info.value.status == 402
    assert info.value.details["resets_at"] == "2024-03-01T00:00:00Z"
    assert info.value.details["level"] == "team" and info.value.details["limit"] == 2000
    clock.now = datetime(2024, 3, 1, tzinfo=UTC).timestamp()  # leap-year February is over
    await gov.charge(rahul, cost=1)


async def test_every_level_is_checked_and_charged(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul, anna = gov.authenticate(env["RAHUL_KEY"]), gov.authenticate(env["ANNA_KEY"])
    await gov.charge(rahul, cost=1500)
    assert await used(gov, rahul) == {
        ("key", "requests"): 1,
        ("team", "cost"): 1500,
        ("customer", "cost"): 1500,
        ("group", "requests"): 0,
    }
    await gov.charge(anna, cost=2000)  # other team, same customer: the customer reaches 3500
    await gov.charge(rahul, cost=600)  # team backend goes over (one charge may cross); customer 4100
    with pytest.raises(BudgetExceededError, match="team 'backend'"):
        await gov.charge(rahul, cost=1)
    await gov.charge(anna, cost=1000)  # anna's team has no budget; the customer crosses to 5100
    with pytest.raises(BudgetExceededError, match="customer 'acme'") as info:
        await gov.charge(anna, cost=1)
    assert info.value.details["used"] == 5100
    with pytest.raises(BudgetExceededError):
        await gov.check_limits(anna, cost=0)  # a spent level refuses every request


async def test_a_refused_charge_changes_nothing(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    await gov.charge(rahul, cost=2500)  # team and customer past/near their budgets
    before = await used(gov, rahul)
    with pytest.raises(BudgetExceededError):
        await gov.charge(rahul, cost=5)
    assert await used(gov, rahul) == before  # the key's request counter did not move either


async def test_check_is_read_only_and_unenforced_charges_always_record(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    for _ in range(5):
        await gov.check_limits(rahul)
    assert (await used(gov, rahul))[("key", "requests")] == 0
    await gov.charge(rahul, requests=60)
    await gov.charge(rahul, requests=0, tokens=500, cost=3000, enforce=False)  # after-the-fact usage
    assert await used(gov, rahul) == {
        ("key", "requests"): 60,
        ("team", "cost"): 3000,
        ("customer", "cost"): 3000,
        ("group", "requests"): 0,
    }


async def test_token_limits(env: dict[str, str], counter_store: CounterStore, clock: FakeClock) -> None:
    text = "virtual_keys: {k: {key: k-key, rate_limit: {tokens: 1000, period: 1d}}}"
    gov = await make(text, env, counter_store, clock)
    k = gov.authenticate("k-key")
    await gov.charge(k, tokens=900)
    await gov.charge(k, tokens=200)  # crosses: tokens are often known only afterwards
    with pytest.raises(RateLimitError) as info:
        await gov.charge(k, tokens=1)
    assert info.value.details["metric"] == "tokens" and info.value.details["used"] == 1100


async def test_tool_calls_charge_cost_and_group_call_limits(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    text = EXAMPLE + "  rita: {key: rita-key, team: data, tool_groups: [platform]}\n"
    gov = await make(text, env, counter_store, clock)
    rahul, rita = gov.authenticate(env["RAHUL_KEY"]), gov.authenticate("rita-key")
    policy = await gov.admit_tool_call(rahul, "deploy", "prod_db")
    assert policy.cost == 5.0 and policy.approval == "review"
    await gov.admit_tool_call(rahul, "deploy", "staging")
    await gov.admit_tool_call(rahul, "deploy", "staging")
    with pytest.raises(RateLimitError) as info:  # platform: 3 calls a minute, per key
        await gov.admit_tool_call(rahul, "deploy", "staging")
    assert (info.value.details["level"], info.value.details["name"], info.value.details["limit"]) == (
        "group",
        "platform",
        3,
    )
    await gov.admit_tool_call(rahul, "time", "now")  # other groups are not limited
    await gov.admit_tool_call(rita, "deploy", "staging")  # rita has her own platform counter
    usage = await used(gov, rahul)
    assert usage[("team", "cost")] == 6.0 and usage[("customer", "cost")] == 6.5
    assert usage[("group", "requests")] == 3


async def test_provider_levels_plug_in_as_extra_scopes(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(EXAMPLE, env, counter_store, clock)
    anna = gov.authenticate(env["ANNA_KEY"])
    provider = LimitScope("provider", "openai", (LimitRule("tokens", 100, parse_period("1m")),))
    await gov.charge(anna, tokens=150, extra=[provider])
    with pytest.raises(RateLimitError, match="provider 'openai'"):
        await gov.check_limits(anna, extra=[provider])
    await gov.check_limits(anna)  # without the provider level, anna is fine


async def test_200_concurrent_charges_overshoot_by_at_most_one(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    alerts: list[AlertEvent] = []
    gov = await make(PAID, env, counter_store, clock, alerts)
    identities = [gov.authenticate("k-key"), gov.authenticate("k2-key")]
    outcomes: list[str] = []

    async def call(i: int) -> None:
        try:
            await gov.admit_tool_call(identities[i % 2], "svc", "op")
            outcomes.append("ok")
        except BudgetExceededError:
            outcomes.append("budget")
        except RateLimitError:
            outcomes.append("rate")

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(call, i)
    spent = (await used(gov, identities[0]))[("team", "cost")]
    assert outcomes.count("ok") == math.ceil(10 / 0.3)  # 34: admitted while under 10
    assert 10 <= spent < 10 + 0.3 + 1e-9  # at most one charge over
    assert outcomes.count("budget") == 200 - 34
    assert [a.threshold for a in alerts] == [0.8]  # crossed once, announced once


async def test_200_concurrent_requests_never_exceed_a_request_limit(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock
) -> None:
    gov = await make(PAID, env, counter_store, clock)
    k = gov.authenticate("k-key")
    admitted = 0

    async def call() -> None:
        nonlocal admitted
        try:
            await gov.charge(k)
            admitted += 1
        except PolicyError:
            pass

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(call)
    assert admitted == 50
    assert (await used(gov, k))[("key", "requests")] == 50


def test_memory_store_is_atomic_across_threads(clock: FakeClock) -> None:
    store = MemoryCounterStore()
    engine = LimitsEngine(store, clock=clock)
    scope = [LimitScope("team", "t", (LimitRule("cost", 10, parse_period("1d")),))]
    results: list[bool] = []

    async def one() -> None:
        try:
            await engine.charge(scope, requests=0, cost=0.3)
            results.append(True)
        except BudgetExceededError:
            results.append(False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(anyio.run, one) for _ in range(200)]:
            future.result(timeout=30)
    assert results.count(True) == 34


async def test_alerts_fire_once_per_threshold_and_window(
    env: dict[str, str], counter_store: CounterStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    text = "virtual_keys: {k: {key: k-key, budget: {limit: 100, period: 1d, alert_at: [0.5, 0.8, 1.0]}}}"
    alerts: list[AlertEvent] = []
    gov = await make(text, env, counter_store, clock, alerts)
    k = gov.authenticate("k-key")
    for _ in range(9):
        await gov.charge(k, cost=10)
    assert [(a.threshold, a.used) for a in alerts] == [(0.5, 50), (0.8, 80)]
    await gov.charge(k, cost=25)  # 115: crosses 100 %
    assert [a.threshold for a in alerts] == [0.5, 0.8, 1.0]
    assert alerts[-1].level == "key" and alerts[-1].metric == "cost"
    assert alerts[-1].resets_at == datetime(2024, 3, 1, tzinfo=UTC).timestamp()
    assert "limit alert: key 'k' used 80 of 100 cost per 1d (80 % threshold)" in caplog.text
    clock.now += 86_400  # next day: fresh window, fresh alerts
    await gov.charge(k, cost=60)
    assert [a.threshold for a in alerts] == [0.5, 0.8, 1.0, 0.5]


async def test_a_failing_alert_hook_does_not_fail_the_request(
    env: dict[str, str], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: AlertEvent) -> None:
        raise RuntimeError("hook down")

    gov = await Governance.from_config(
        load("virtual_keys: {k: {key: k-key, budget: {limit: 10, period: 1d}}}", env),
        clock=clock,
        alert_hooks=[broken],
        env=env,
    )
    await gov.charge(gov.authenticate("k-key"), cost=9)
    assert "alert hook" in caplog.text


async def test_identities_without_limits_cost_nothing(env: dict[str, str], clock: FakeClock) -> None:
    gov = await Governance.from_config(load("{}"), api_key="single", clock=clock, env=env)
    default = gov.authenticate("single")
    for _ in range(1000):
        await gov.charge(default, cost=1e9)
    assert await gov.usage(default) == []


async def test_unreachable_redis_is_reported_as_unavailable() -> None:
    from mcp_gateway.governance import CounterStoreUnavailable
    from mcp_gateway.governance.redis_counters import RedisCounterStore
    from tests.fixtures.processes import free_port as _free_port

    store = RedisCounterStore.from_url(f"redis://127.0.0.1:{_free_port()}/0", timeout_s=2)
    engine = LimitsEngine(store)
    scope = [LimitScope("key", "k", (LimitRule("requests", 5, parse_period("1m")),))]
    try:
        with anyio.fail_after(10):
            with pytest.raises(CounterStoreUnavailable):
                await engine.charge(scope)
            with pytest.raises(CounterStoreUnavailable):
                await engine.check(scope)
    finally:
        await store.aclose()
