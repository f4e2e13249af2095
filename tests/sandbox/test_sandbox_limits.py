"""Every limit stops a script with kind="limit" naming the limit; bombs never hurt the gateway."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sandbox_helpers import BINDINGS, FakeHost, percentile, rss_kb, run

from sandbox import HostCallRequest, Limits, RunClock, WorkerPool, create_sandbox

LOOP_BOMB = "for i in range(1 << 30):\n    for j in range(1 << 30):\n        x = i"
RECURSION_BOMB = "def f(n):\n    return f(n + 1)\nf(0)"
NESTED_RECURSION_BOMB = "def f(n):\n    return [f(n + 1) for _ in range(2)]\nf(0)"
BOMBS = [
    'x = "a"\nfor i in range(64):\n    x = x + x',
    "x = [1]\nfor i in range(64):\n    x = x + x",
    'x = "ab" * 2147483647',
    "x = [0] * 2147483647",
    'x = "a" * 1000000\ny = [x + str(i) for i in range(100000)]',
]


@pytest.mark.parametrize("code", [LOOP_BOMB, "x = [i for i in range(1000000000) if i < 0]"])
async def test_loop_bombs_stop_at_the_deadline(sandbox: WorkerPool, code: str) -> None:
    start = anyio.current_time()
    result = await run(sandbox, f'print("started")\n{code}', timeout_s=0.5, max_steps=10**12)
    elapsed = anyio.current_time() - start
    assert result.error is not None and result.error.kind == "limit"
    assert "timeout_s=0.5" in result.error.message
    assert elapsed < 0.5 + 0.1, f"stopped after {elapsed:.3f} s"
    assert result.output == "started\n"  # output printed before the kill survives


@pytest.mark.parametrize("code", [RECURSION_BOMB, NESTED_RECURSION_BOMB])
async def test_recursion_bombs_stop_fast(sandbox: WorkerPool, engine: str, code: str) -> None:
    start = anyio.current_time()
    result = await run(sandbox, code, timeout_s=0.5)
    assert anyio.current_time() - start < 0.5 + 0.1
    assert result.error is not None
    if engine == "pyo3":  # recursion allowed up to max_callstack
        assert result.error.kind == "limit" and "max_callstack=100" in result.error.message
    else:  # the standard dialect forbids recursion
        assert result.error.kind == "runtime" and "recursive" in result.error.message


async def test_callstack_limit_is_configurable(sandbox: WorkerPool, engine: str) -> None:
    if engine == "go":
        pytest.skip("starlark-go forbids recursion, so depth is bounded by the number of functions")
    code = "def f(n):\n    return 0 if n == 0 else f(n - 1)\nf(20)"
    assert (await run(sandbox, code, max_callstack=30)).ok
    deep = await run(sandbox, code, max_callstack=10)
    assert deep.error is not None and deep.error.kind == "limit" and "max_callstack=10" in deep.error.message


async def test_step_budget(sandbox: WorkerPool, engine: str) -> None:
    if engine == "go":
        pytest.skip("starlark-go has no step counter; the wall clock bounds it")
    result = await run(sandbox, "x = 0\nfor i in range(10000000):\n    x += i", max_steps=100_000)
    assert result.error is not None and result.error.kind == "limit"
    assert "max_steps=100000" in result.error.message and result.error.line == 2
    assert (await run(sandbox, "x = 0\nfor i in range(1000):\n    x += i", max_steps=100_000)).ok


async def test_print_flood_is_capped(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'for i in range(20000):\n    print("spam", i)', max_output_bytes=1000)
    assert result.ok, result.error
    assert result.stats.output_truncated and result.stats.output_bytes == 1000
    body, marker = result.output[:1000], result.output[1000:]
    assert body.startswith("spam 0\nspam 1\n")
    assert "truncated" in marker and "max_output_bytes=1000" in marker


async def test_memory_limit(sandbox: WorkerPool) -> None:
    result = await run(sandbox, "x = [1]\nfor i in range(64):\n    x = x + x", memory_mb=64)
    assert result.error is not None and result.error.kind == "limit"
    assert "memory_mb=64" in result.error.message
    assert (await run(sandbox, "1 + 1")).result == 2  # the pool recovered


async def test_cpu_limit(engine_name: str) -> None:
    async with create_sandbox(engine_name, workers=1) as pool:
        result = await run(pool, LOOP_BOMB, timeout_s=20, cpu_s=1, max_steps=10**12, within=30)
        assert result.error is not None and result.error.kind == "limit"
        assert "cpu_s=1" in result.error.message
        assert (await run(pool, "1 + 1")).result == 2


async def test_doubling_bombs_leave_the_gateway_flat(engine_name: str) -> None:
    """Bombs run next to small scripts: the gateway's memory stays put, small runs stay fast."""
    async with create_sandbox(engine_name, workers=3) as pool:
        for _ in range(5):  # warm up allocator and caches before the baseline
            await run(pool, "1 + 1")
        rss_before = rss_kb()
        latencies: list[float] = []
        outcomes = []
        bombing = True

        async def bombs() -> None:
            nonlocal bombing
            for code in BOMBS:
                outcomes.append(await run(pool, code, timeout_s=5, memory_mb=128, max_steps=10**12))
            bombing = False

        async def small_runs() -> None:
            host = FakeHost()
            while bombing or len(latencies) < 30:
                start = anyio.current_time()
                result = await run(pool, "github.echo(n=1)", host)
                latencies.append(anyio.current_time() - start)
                assert result.ok, result.error

        async with anyio.create_task_group() as group:
            group.start_soon(bombs)
            group.start_soon(small_runs)
        for result in outcomes:
            assert result.error is not None and result.error.kind in {"limit", "runtime"}, result
        assert rss_kb() - rss_before < 20 * 1024
        assert percentile(latencies, 0.99) < 0.5, sorted(latencies)[-5:]  # typically ~30 ms
        assert len(pool.worker_pids()) == 3


async def test_a_paused_clock_does_not_count_toward_the_wall_clock(sandbox: WorkerPool) -> None:
    """A call held for review waits longer than the whole run may take, and the run still ends well."""
    clock = RunClock()
    host = FakeHost()

    async def held(call: HostCallRequest) -> Any:
        if call.method == "slow":
            with clock.paused():
                return await host(call)
        return await host(call)

    with anyio.fail_after(20):
        result = await sandbox.run(
            "a = github.slow(s=0.6, n=1)\nb = github.slow(s=0.05, n=2)\nresult = a + b",
            bindings=BINDINGS,
            host=held,
            limits=Limits(timeout_s=0.5),
            clock=clock,
        )
    assert result.error is None, result.error
    assert result.result == 3
    assert clock.paused_s >= 0.6


async def test_without_a_pause_the_same_wait_times_out(sandbox: WorkerPool) -> None:
    result = await run(sandbox, "result = github.slow(s=0.6, n=1)", timeout_s=0.3)
    assert result.error is not None and result.error.kind == "limit"
