"""Driving one run on one worker (gateway side): the conversation, the deadline, the outcome.

The wall clock starts when the worker receives the script (queueing for a free worker does not
count: a script's budget should not depend on load). The worker stops itself at the deadline
where it can (starlark-pyo3; any engine during a host call), and gets `KILL_GRACE_S` to do so;
otherwise the gateway kills it, the only way to stop starlark-go or a long native operation.
Output arrives while the script runs, so it survives a kill.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict, dataclass
from typing import Any

import anyio

from .api import Bindings, HostCall, Limits, RunClock, RunResult, RunStats, ScriptError
from .engines import SELF_INTERRUPTING
from .framing import MAX_FRAME_BYTES, FrameError
from .hostcalls import CallBudget, serve_calls, timeout_reply
from .limits import limit_message
from .output import Transcript
from .process import WorkerDied, WorkerProcess

__all__ = ["KILL_GRACE_S", "Outcome", "run_on_worker"]

KILL_GRACE_S = 0.05
"""How long after the deadline a worker may take to stop itself before it is killed."""


def _oversized_reply() -> dict[str, Any]:
    message = f"Host call results exceed the {MAX_FRAME_BYTES}-byte transfer cap"
    return {"op": "reply", "fault": {"kind": "tool", "message": message}}


_MEMORY_MARKERS = ("out of memory", "memory allocation of", "MemoryError", "cannot allocate memory")


@dataclass(frozen=True, slots=True)
class Outcome:
    """A run's result and whether its worker can take another run."""

    result: RunResult
    reusable: bool


async def _death_error(worker: WorkerProcess, stderr_mark: int, limits: Limits) -> ScriptError:
    """Why a worker died on its own, from its exit status and what it wrote to stderr."""
    status = None
    with anyio.move_on_after(1.0):
        status = await worker.exit_status()
    tail = worker.stderr_since(stderr_mark)
    if status == -signal.SIGXCPU:
        return ScriptError("limit", limit_message("cpu_s", limits))
    if any(marker in tail for marker in _MEMORY_MARKERS):
        return ScriptError("limit", limit_message("memory_mb", limits))
    if status is not None and status < 0:
        name = signal.Signals(-status).name
        return ScriptError("internal", f"The worker process was killed by {name} while running the script")
    return ScriptError("internal", f"The worker process exited (status {status}) while running the script")


class _Run:
    """State of one run on the gateway side."""

    def __init__(
        self, worker: WorkerProcess, bindings: Bindings, host: HostCall, limits: Limits, clock: RunClock | None
    ) -> None:
        self.worker = worker
        self.clock = clock
        self.host = host
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.timeout_s
        self.budget = CallBudget(limits)
        self.transcript = Transcript(limits.max_output_bytes)
        self.bindings = {obj: frozenset(names) for obj, names in bindings.items()}
        self.stderr_mark = worker.stderr_size()
        self.in_call = False

    def result(self, error: ScriptError | None, value: Any = None, *, killed: bool = False) -> RunResult:
        stats = RunStats(
            duration_ms=(time.monotonic() - self.started) * 1000,
            tool_calls=self.budget.used,
            output_bytes=self.transcript.size,
            output_truncated=self.transcript.truncated,
            worker_killed=killed,
        )
        return RunResult(output=self.transcript.text(), result=value, error=error, stats=stats)

    def finished(self, message: dict[str, Any]) -> Outcome:
        """The `done` message."""
        error = ScriptError(**message["error"]) if message.get("error") else None
        try:
            value = json.loads(message.get("result_json") or "null")
        except ValueError:
            value, error = None, ScriptError("internal", "the worker sent an unreadable result")
        self.transcript.add("", bool(message.get("truncated")))
        return Outcome(self.result(error, value), reusable=not message.get("recycle"))

    async def serve(self, *, answer_calls: bool = True) -> Outcome:
        """Handle the worker's messages until `done`; past the deadline (`answer_calls` false)
        every host call gets the timeout fault instead."""
        while True:
            message = await self.worker.receive()
            if message["op"] == "output":
                self.transcript.add(str(message.get("text", "")), bool(message.get("truncated")))
            elif message["op"] == "call":
                if not answer_calls:
                    await self.worker.send(timeout_reply(self.limits))
                    continue
                self.in_call = True
                paused_before = self.clock.paused_s if self.clock is not None else 0.0
                reply = await serve_calls(message, host=self.host, bindings=self.bindings, budget=self.budget)
                self.in_call = False
                if self.clock is not None and self.clock.paused_s > paused_before:
                    # The worker keeps its own copy of the deadline: move it by the same amount.
                    reply["paused_s"] = self.clock.paused_s - paused_before
                try:
                    await self.worker.send(reply)
                except FrameError:
                    await self.worker.send(_oversized_reply())
            elif message["op"] == "done":
                return self.finished(message)
            else:
                raise WorkerDied(f"unexpected {message['op']!r} message from worker")

    async def converse(self, code: str) -> Outcome:
        """Send the script and serve it; at the deadline let it stop itself, or kill it."""
        wire_bindings = {obj: sorted(names) for obj, names in self.bindings.items()}
        await self.worker.send({"op": "run", "code": code, "bindings": wire_bindings, "limits": asdict(self.limits)})
        # One scope for the whole run (not one per host call): cheaper, and the deadline
        # covers host calls and computation alike.
        with anyio.move_on_after(self.deadline - time.monotonic()) as scope:
            if self.clock is not None:
                self.clock.attach(scope)  # a call held for review stops the clock (RunClock)
            return await self.serve()
        if self.in_call:  # the script waits for a host call that was just cancelled
            await self.worker.send(timeout_reply(self.limits))
        if self.in_call or self.worker.engine in SELF_INTERRUPTING:
            with anyio.move_on_after(KILL_GRACE_S):  # it stops itself; give it a moment
                return await self.serve(answer_calls=False)
        self.worker.kill()  # past the deadline and the grace: the only sure way to stop it
        timeout = ScriptError("limit", limit_message("timeout_s", self.limits))
        return Outcome(self.result(timeout, killed=True), reusable=False)


async def run_on_worker(
    worker: WorkerProcess,
    code: str,
    *,
    bindings: Bindings,
    host: HostCall,
    limits: Limits,
    clock: RunClock | None = None,
) -> Outcome:
    """Run `code` on `worker` and turn what comes back into a `RunResult`.

    Raises WorkerDied only when the gateway itself killed the worker (shutdown, cancellation).
    """
    run = _Run(worker, bindings, host, limits, clock)
    try:
        return await run.converse(code)
    except WorkerDied:
        if worker.killed:
            raise
        worker.kill()
        error = await _death_error(worker, run.stderr_mark, limits)
        return Outcome(run.result(error, killed=True), reusable=False)
