"""The worker pool: concurrency, queueing, worker deaths, cancellation, shutdown."""

from __future__ import annotations

import os
import signal

import anyio
import pytest
from sandbox_helpers import FakeHost, children, run

import sandbox
from sandbox import Limits, SandboxClosed, SandboxStartError, WorkerPool, create_sandbox


async def test_hundred_concurrent_runs_are_all_correct(sandbox: WorkerPool) -> None:
    host = FakeHost()
    results: dict[int, object] = {}

    async def one(i: int) -> None:
        result = await run(
            sandbox, f'r = github.echo(i={i})\nprint("run", {i})\nresult = [{i} * 2, r["kwargs"]["i"]]', host
        )
        assert result.ok, result.error
        assert result.output == f"run {i}\n"
        results[i] = result.result

    async with anyio.create_task_group() as group:
        for i in range(100):
            group.start_soon(one, i)
    assert results == {i: [i * 2, i] for i in range(100)}
    assert len(host.calls) == 100


async def test_queued_runs_get_their_full_timeout(engine_name: str) -> None:
    """The wall clock starts on a worker: waiting in the queue does not eat the budget."""
    async with create_sandbox(engine_name, workers=1) as pool:
        results = []

        async def one() -> None:
            results.append(await run(pool, 'github.slow(s=0.3, n="done")', timeout_s=0.5))

        start = anyio.current_time()
        async with anyio.create_task_group() as group:
            group.start_soon(one)
            group.start_soon(one)
        assert anyio.current_time() - start >= 0.6  # one after the other
        assert [r.result for r in results] == ["done", "done"], [r.error for r in results]


async def test_timeout_counts_time_spent_in_host_calls(sandbox: WorkerPool) -> None:
    host = FakeHost()
    start = anyio.current_time()
    result = await run(sandbox, 'print("a")\ngithub.slow(s=5)\nprint("b")', host, timeout_s=0.3)
    assert anyio.current_time() - start < 0.3 + 0.1
    assert result.error is not None and result.error.kind == "limit" and "timeout_s=0.3" in result.error.message
    assert result.output == "a\n" and not result.stats.worker_killed  # the worker stopped itself


async def test_event_loop_stays_responsive_during_a_bomb(sandbox: WorkerPool) -> None:
    gaps: list[float] = []

    async def ticker(stop: anyio.Event) -> None:
        last = anyio.current_time()
        while not stop.is_set():
            await anyio.sleep(0.005)
            now = anyio.current_time()
            gaps.append(now - last)
            last = now

    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(ticker, stop)
        await run(sandbox, "for i in range(1 << 30):\n    x = i", timeout_s=0.4, max_steps=10**12)
        stop.set()
    assert max(gaps) < 0.1, f"event loop blocked for {max(gaps):.3f} s"


async def test_worker_killed_from_outside_is_reported_and_replaced(engine_name: str) -> None:
    async with create_sandbox(engine_name, workers=1) as pool:
        [victim] = pool.worker_pids()
        host = FakeHost()
        outcome = []

        async def script() -> None:
            code = 'print("about to spin")\ngithub.started()\nfor i in range(1 << 30):\n    x = i'
            outcome.append(await run(pool, code, host, timeout_s=10, max_steps=10**12))

        async with anyio.create_task_group() as group:
            group.start_soon(script)
            with anyio.fail_after(10):
                await host.started.wait()
            os.kill(victim, signal.SIGKILL)
        [result] = outcome
        assert result.error is not None and result.error.kind == "internal"
        assert "SIGKILL" in result.error.message and result.stats.worker_killed
        assert result.output == "about to spin\n"
        assert victim not in pool.worker_pids() and len(pool.worker_pids()) == 1
        assert (await run(pool, "1 + 1")).result == 2


async def test_idle_worker_death_is_invisible(engine_name: str) -> None:
    async with create_sandbox(engine_name, workers=1) as pool:
        [victim] = pool.worker_pids()
        pidfd = os.pidfd_open(victim)
        try:
            os.kill(victim, signal.SIGKILL)
            with anyio.fail_after(5):
                await anyio.wait_readable(pidfd)  # readable once the process has exited
        finally:
            os.close(pidfd)
        result = await run(pool, "1 + 1")
        assert result.ok and result.result == 2, result.error
        assert victim not in pool.worker_pids()


async def test_cancelled_run_kills_its_worker_and_the_pool_recovers(sandbox: WorkerPool) -> None:
    before = set(sandbox.worker_pids())
    with anyio.move_on_after(0.2):
        await run(sandbox, "for i in range(1 << 30):\n    x = i", timeout_s=10, max_steps=10**12)
    assert len(sandbox.worker_pids()) == 2 and set(sandbox.worker_pids()) != before
    assert (await run(sandbox, "1 + 1")).result == 2


async def test_aclose_leaves_no_processes(engine_name: str) -> None:
    before = set(children())
    pool = create_sandbox(engine_name, workers=3)
    with anyio.fail_after(30):
        await pool.start()
    pids = set(pool.worker_pids())
    assert pids <= set(children()) and len(pids) == 3
    # one run in flight, one worker killed and replaced on the way
    await run(pool, "for i in range(1 << 30):\n    x = i", timeout_s=0.2, max_steps=10**12)
    host = FakeHost()
    interrupted = []

    async def in_flight() -> None:
        with pytest.raises(SandboxClosed):
            await run(pool, 'github.started()\ngithub.slow(s=5)\n"never"', host)
        interrupted.append(True)

    async with anyio.create_task_group() as group:
        group.start_soon(in_flight)
        with anyio.fail_after(10):
            await host.started.wait()
        await pool.aclose()
    assert interrupted == [True]
    assert set(children()) == before
    assert pool.worker_pids() == []
    with pytest.raises(SandboxClosed):
        await run(pool, "1")
    await pool.aclose()  # idempotent


async def test_start_failures_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        create_sandbox("rhino")
    with pytest.raises(ValueError, match="at least one worker"):
        create_sandbox("pyo3", workers=0)
    monkeypatch.setattr(sandbox.process, "_BOOTSTRAP", "import sys; sys.stderr.write('no engine here'); sys.exit(3)")
    before = set(children())
    with pytest.raises(SandboxStartError, match="no engine here"):
        async with create_sandbox("pyo3", workers=2):
            pass
    assert set(children()) == before


async def test_run_before_start_raises() -> None:
    pool = create_sandbox("pyo3", workers=1)
    with pytest.raises(SandboxClosed):
        await pool.run("1", bindings={}, host=FakeHost(), limits=Limits())
