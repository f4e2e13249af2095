"""The worker pool: the `Sandbox` implementation handed out by `create_sandbox`.

`workers` processes are started by `start()`. A run takes an idle worker (runs beyond the pool
size wait in FIFO order), and gives it back afterwards, unless the worker was killed, died, or
asked to be recycled: then it is reaped and a replacement spawned at once, so the pool keeps its
size. Replacements boot in the background; the next run that takes one waits for its `ready`.
No background tasks: `start()` and `aclose()` may be called from any task.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .api import (
    Bindings,
    EngineName,
    HostCall,
    Limits,
    RunClock,
    RunResult,
    RunStats,
    SandboxClosed,
    SandboxStartError,
    ScriptError,
)
from .prelude import validate_bindings
from .process import WorkerDied, WorkerProcess
from .session import Outcome, run_on_worker

__all__ = ["WorkerPool"]

READY_TIMEOUT_S = 30.0
"""How long a booting worker may take to report ready (imports + engine warm-up)."""
_MAX_BOOT_FAILURES = 3


class WorkerPool:
    """A started pool of worker processes running scripts; implements `sandbox.Sandbox`."""

    def __init__(self, engine: EngineName, workers: int, default_limits: Limits) -> None:
        if workers < 1:
            raise ValueError("a sandbox needs at least one worker")
        self.engine: EngineName = engine
        self.size = workers
        self.default_limits = default_limits
        self._workers: set[WorkerProcess] = set()
        self._running: set[anyio.CancelScope] = set()
        self._dying: set[WorkerProcess] = set()
        """Killed workers whose exit status is not collected yet; reaped later, never waited on
        in a run's path."""
        # Idle workers, FIFO; created by start() (an unstarted pool owns nothing to close).
        self._idle_in: MemoryObjectSendStream[WorkerProcess]
        self._idle_out: MemoryObjectReceiveStream[WorkerProcess]
        self._started = False
        self._closed = False
        self._deficit = 0
        """Replacements that could not be spawned yet (fork failed); retried by `_acquire`."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and tests)."""
        return sorted(worker.pid for worker in self._workers)

    async def start(self) -> None:
        """Start every worker and wait until all are ready; SandboxStartError if they cannot."""
        if self._started:
            return
        self._started = True
        self._idle_in, self._idle_out = anyio.create_memory_object_stream[WorkerProcess](self.size)
        try:
            workers = [await self._spawn() for _ in range(self.size)]
            with anyio.fail_after(READY_TIMEOUT_S):
                for worker in workers:  # they boot in parallel; waiting in turn costs nothing
                    await worker.wait_ready()
        except (WorkerDied, OSError, TimeoutError) as exc:
            tails = "; ".join(w.stderr_since(0).strip()[:500] for w in self._workers if w.stderr_size())
            await self.aclose()
            raise SandboxStartError(f"{self.engine} workers failed to start: {exc}. {tails}".strip()) from exc
        for worker in workers:
            self._idle_in.send_nowait(worker)

    async def run(
        self,
        code: str,
        *,
        bindings: Bindings,
        host: HostCall,
        limits: Limits | None = None,
        clock: RunClock | None = None,
    ) -> RunResult:
        """Run `code` on a free worker; see `sandbox.Sandbox.run`."""
        if self._closed or not self._started:
            raise SandboxClosed("the sandbox is closed" if self._closed else "call start() first")
        validate_bindings(bindings)
        worker = await self._acquire()
        outcome: Outcome | None = None
        # aclose() cancels this scope, so a run blocked in a host call ends at shutdown too.
        with anyio.CancelScope() as scope:
            self._running.add(scope)
            try:
                limits = limits or self.default_limits
                outcome = await run_on_worker(worker, code, bindings=bindings, host=host, limits=limits, clock=clock)
            except WorkerDied:
                pass  # killed by aclose() (the only other killer, the deadline, returns a result)
            finally:
                self._running.discard(scope)
                await self._release(worker, reusable=outcome is not None and outcome.reusable)
        if self._closed and (outcome is None or outcome.result.stats.worker_killed):
            raise SandboxClosed("the sandbox was closed during the run")
        if outcome is None:
            error = ScriptError("internal", "The worker process was stopped while running the script")
            return RunResult(error=error, stats=RunStats(worker_killed=True))
        return outcome.result

    async def _spawn(self) -> WorkerProcess:
        worker = await WorkerProcess.spawn(self.engine, self.default_limits.memory_mb)
        self._workers.add(worker)
        return worker

    async def _acquire(self) -> WorkerProcess:
        """The next idle, live, ready worker; dead or unbootable ones are replaced on the way."""
        failures = 0
        while self._deficit:
            try:
                self._idle_in.send_nowait(await self._spawn())
            except OSError as exc:
                raise SandboxStartError(f"cannot start a worker process: {exc}") from exc
            self._deficit -= 1
        while True:
            try:
                worker = await self._idle_out.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                raise SandboxClosed("the sandbox is closed") from None
            try:
                with anyio.fail_after(READY_TIMEOUT_S):
                    await worker.wait_ready()
            except (WorkerDied, TimeoutError) as exc:
                failures += 1
                await self._release(worker, reusable=False)
                if failures >= _MAX_BOOT_FAILURES:
                    raise SandboxStartError(f"workers keep failing to start: {exc}") from exc
                continue
            except BaseException:
                await self._release(worker, reusable=False)
                raise
            if worker.alive:
                return worker
            await self._release(worker, reusable=False)

    async def _release(self, worker: WorkerProcess, *, reusable: bool) -> None:
        """Give the worker back, or kill it and put a fresh one in its place."""
        if reusable and worker.alive and not self._closed:
            self._idle_in.send_nowait(worker)
            return
        with anyio.CancelScope(shield=True):
            worker.kill()
            worker.close_pipe()
            self._workers.discard(worker)
            self._dying.add(worker)
            await self._reap_exited()
            if self._closed:
                return
            try:
                replacement = await self._spawn()
            except OSError:
                self._deficit += 1  # cannot fork right now; the next `_acquire` tries again
                return
            self._idle_in.send_nowait(replacement)

    async def _reap_exited(self) -> None:
        """Collect killed workers that have exited (without waiting for the others)."""
        for worker in [w for w in self._dying if w.exited]:
            self._dying.discard(worker)
            await worker.reap()

    async def aclose(self) -> None:
        """Kill and reap every worker; later and interrupted runs raise SandboxClosed."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        self._idle_in.close()
        self._idle_out.close()
        for scope in list(self._running):
            scope.cancel()
        workers = [*self._workers, *self._dying]
        for worker in workers:
            worker.kill()
        with anyio.CancelScope(shield=True):
            for worker in workers:
                await worker.reap()
        self._workers.clear()
        self._dying.clear()
