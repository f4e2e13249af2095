"""Sandbox latency figures, per engine: `python benchmarks/sandbox_bench.py [--quick]`.

Prints, for each engine (pyo3, go):
- in-process engine cost (no worker): opening a session, running `1 + 1` on it;
- cold start: `start()` of a one-worker pool until the worker is ready;
- warm `run()` of a script with no host calls, p50/p99 (target p50 <= 5 ms);
- added latency per host call, against a host function that returns at once:
  (run with N calls - run with 0 calls) / N (target <= 0.5 ms);
- one script calling a 100 ms host function 10 times through `parallel` (ideal: ~100 ms);
- loop throughput (`for` iterations per second inside one run);
and, once, the round trip of the IPC transports that were considered (echo child process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import HostCallRequest, Limits, WorkerPool, create_sandbox

BINDINGS = {"bench": frozenset({"noop", "sleep"})}
LIMITS = Limits(timeout_s=30, max_steps=10**9, max_tool_calls=10_000)


async def host(call: HostCallRequest) -> Any:
    if call.method == "sleep":
        await anyio.sleep(0.1)
    return None


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def run_ok(pool: WorkerPool, code: str) -> None:
    result = await pool.run(code, bindings=BINDINGS, host=host, limits=LIMITS)
    if not result.ok:
        raise RuntimeError(f"benchmark script failed: {result.error}")


async def cold_start(engine: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        pool = create_sandbox(engine, workers=1)
        times.append(await timed(pool.start))
        await pool.aclose()
    return times


def in_process(engine_name: str, rounds: int) -> tuple[float, float]:
    """Engine cost without the process boundary: open a session (interpreter + prelude), then
    run `1 + 1` on it (rewrite, evaluate, export the result), as the worker does."""
    from sandbox.engines import load_engine
    from sandbox.execute import request_bindings, run_request

    engine = load_engine(engine_name)
    engine.warm_up()
    request = {"op": "run", "code": "1 + 1", "bindings": {"bench": ["noop"]}, "limits": asdict(LIMITS)}
    opens, runs = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        session = engine.open(request_bindings(request))
        opened = time.perf_counter()
        run_request(session, request, lambda message: {}, lambda message: None, 0)
        opens.append(opened - start)
        runs.append(time.perf_counter() - opened)
    return statistics.median(opens), statistics.median(runs)


async def bench_engine(engine: str, quick: bool) -> dict[str, str]:
    rounds = 3 if quick else 7
    runs = 100 if quick else 400
    calls = 50 if quick else 200
    cold = await cold_start(engine, rounds)
    async with create_sandbox(engine, workers=1) as pool:
        for _ in range(20):  # warm caches on both sides
            await run_ok(pool, "1 + 1")
        warm = [await timed(lambda: run_ok(pool, "1 + 1")) for _ in range(runs)]

        with_calls = f"for i in range({calls}):\n    bench.noop()"
        without = f"for i in range({calls}):\n    pass"
        per_call = []
        for _ in range(rounds * 2):
            base = await timed(lambda: run_ok(pool, without))
            loaded = await timed(lambda: run_ok(pool, with_calls))
            per_call.append((loaded - base) / calls)

        parallel = [
            await timed(lambda: run_ok(pool, "parallel([[bench.sleep, {}] for i in range(10)])")) for _ in range(rounds)
        ]

        iterations = 1_000_000
        loop = [
            await timed(lambda: run_ok(pool, f"x = 0\nfor i in range({iterations}):\n    x += i")) for _ in range(3)
        ]
    # On a thread, as in the worker (see sandbox/worker.py: cgo calls from the main thread are slow).
    open_s, execute_s = await anyio.to_thread.run_sync(in_process, engine, runs)
    return {
        "in-process: open session": ms(open_s),
        "in-process: run 1 + 1": ms(execute_s),
        "cold start (p50)": ms(statistics.median(cold)),
        "warm run p50": ms(pct(warm, 0.5)),
        "warm run p99": ms(pct(warm, 0.99)),
        "per host call": ms(statistics.median(per_call)),
        "parallel 10 x 100 ms": ms(statistics.median(parallel)),
        "loop throughput": f"{iterations / min(loop) / 1e6:.1f} M iterations/s",
    }


# --- IPC transports considered for the worker pipe (an echo child, 64-byte messages) ---------

ECHO_CHILD = "import os\nwhile True:\n    d = os.read(0, 65536)\n    if not d: break\n    os.write(1, d)\n"


async def transport_anyio_streams(rounds: int) -> float:
    async with await anyio.open_process([sys.executable, "-c", ECHO_CHILD]) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            await proc.stdin.send(b"x" * 64)
            await proc.stdout.receive()
            times.append(time.perf_counter() - start)
        await proc.stdin.aclose()
    return statistics.median(times)


async def transport_raw_pipes(rounds: int) -> float:
    read_fd, child_out = os.pipe()
    child_in, write_fd = os.pipe()
    async with await anyio.open_process([sys.executable, "-c", ECHO_CHILD], stdin=child_in, stdout=child_out):
        os.close(child_in)
        os.close(child_out)
        os.set_blocking(read_fd, False)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            os.write(write_fd, b"x" * 64)
            while True:
                try:
                    os.read(read_fd, 65536)
                    break
                except BlockingIOError:
                    await anyio.wait_readable(read_fd)
            times.append(time.perf_counter() - start)
        os.close(write_fd)
        os.close(read_fd)
    return statistics.median(times)


async def transport_to_thread(rounds: int) -> float:
    read_fd, child_out = os.pipe()
    child_in, write_fd = os.pipe()
    async with await anyio.open_process([sys.executable, "-c", ECHO_CHILD], stdin=child_in, stdout=child_out):
        os.close(child_in)
        os.close(child_out)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            os.write(write_fd, b"x" * 64)
            await anyio.to_thread.run_sync(os.read, read_fd, 65536)
            times.append(time.perf_counter() - start)
        os.close(write_fd)
        os.close(read_fd)
    return statistics.median(times)


def _echo(conn: Any) -> None:
    """multiprocessing child: echo until None (spawn imports this file as `__mp_main__`)."""
    while (message := conn.recv()) is not None:
        conn.send(message)


async def transport_multiprocessing(rounds: int) -> float:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_echo, args=(child,))
    proc.start()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        parent.send(b"x" * 64)
        await anyio.to_thread.run_sync(parent.recv)
        times.append(time.perf_counter() - start)
    parent.send(None)
    proc.join()
    return statistics.median(times)


async def transports(quick: bool) -> dict[str, str]:
    rounds = 300 if quick else 2000
    figures = {
        "raw non-blocking pipes + wait_readable (used)": ms(await transport_raw_pipes(rounds)),
        "anyio process streams": ms(await transport_anyio_streams(rounds)),
        "blocking read via anyio.to_thread": ms(await transport_to_thread(rounds)),
    }
    figures["multiprocessing.Pipe (spawn) via to_thread"] = ms(await transport_multiprocessing(rounds))
    return figures


def print_table(title: str, rows: dict[str, dict[str, str]]) -> None:
    columns = list(rows)
    keys = list(next(iter(rows.values())))
    width = max(len(k) for k in keys) + 2
    print(f"\n{title}")
    print(" " * width + "".join(f"{c:>24}" for c in columns))
    for key in keys:
        print(f"{key:<{width}}" + "".join(f"{rows[c][key]:>24}" for c in columns))


async def main(quick: bool, engines: list[str]) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    results = {engine: await bench_engine(engine, quick) for engine in engines}
    print_table("Sandbox (one worker, process-isolated)", results)
    print("\nIPC round trip, 64-byte echo (median)")
    for name, figure in (await transports(quick)).items():
        print(f"  {name:<50}{figure:>12}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test of the script)")
    parser.add_argument("--engine", choices=["pyo3", "go"], action="append", help="default: both")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.engine or ["pyo3", "go"])
