"""Driving one run on one worker (gateway side): the conversation, the deadline, the outcome.

The wall clock starts when the worker receives the script (queueing for a free worker does not
count: a script's budget should not depend on load). The worker stops itself at the deadline
where it can (starlark-pyo3; any engine during a host call); `KILL_GRACE_S` after the deadline
the gateway kills it, which is the only way to stop starlark-go or a long native operation.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from .api import Bindings, HostCall, Limits, RunResult, RunStats, ScriptError
from .hostcalls import CallBudget, serve_calls
from .limits import limit_message
from .process import WorkerDied, WorkerProcess

__all__ = ["KILL_GRACE_S", "Outcome", "run_on_worker"]

KILL_GRACE_S = 0.05
"""How long after the deadline a worker may take to stop itself before it is killed."""

_MEMORY_MARKERS = ("out of memory", "memory allocation of", "MemoryError", "cannot allocate memory")


@dataclass(frozen=True, slots=True)
class Outcome:
    """A run's result and whether its worker can take another run."""

    result: RunResult
    reusable: bool


def _limits_message(limits: Limits) -> dict[str, Any]:
    return {
        "timeout_s": limits.timeout_s,
        "max_steps": limits.max_steps,
        "max_tool_calls": limits.max_tool_calls,
        "max_output_bytes": limits.max_output_bytes,
        "memory_mb": limits.memory_mb,
        "max_callstack": limits.max_callstack,
        "cpu_s": limits.cpu_s,
    }


def _from_done(message: dict[str, Any], tool_calls: int, started: float) -> RunResult:
    error = message.get("error")
    try:
        result = json.loads(message.get("result_json") or "null")
    except ValueError:
        result, error = None, {"kind": "internal", "message": "worker sent an unreadable result"}
    return RunResult(
        output=str(message.get("output", "")),
        result=result,
        error=ScriptError(**error) if error else None,
        stats=RunStats(
            duration_ms=(time.monotonic() - started) * 1000,
            tool_calls=tool_calls,
            output_bytes=int(message.get("output_bytes", 0)),
            output_truncated=bool(message.get("truncated", False)),
        ),
    )


async def _death_error(worker: WorkerProcess, limits: Limits) -> ScriptError:
    """Why a worker died on its own, from its exit status and the tail of its stderr."""
    status = None
    with anyio.move_on_after(1.0):
        status = await worker.exit_status()
    tail = worker.stderr_tail
    if status == -signal.SIGXCPU:
        return ScriptError("limit", limit_message("cpu_s", limits))
    if any(marker in tail for marker in _MEMORY_MARKERS):
        return ScriptError("limit", limit_message("memory_mb", limits))
    if status is not None and status < 0:
        name = signal.Signals(-status).name
        return ScriptError("internal", f"The worker process was killed by {name} while running the script")
    return ScriptError("internal", f"The worker process exited (status {status}) while running the script")


def _failed(error: ScriptError, tool_calls: int, started: float) -> RunResult:
    stats = RunStats(duration_ms=(time.monotonic() - started) * 1000, tool_calls=tool_calls, worker_killed=True)
    return RunResult(error=error, stats=stats)


async def run_on_worker(
    worker: WorkerProcess, code: str, *, bindings: Bindings, host: HostCall, limits: Limits
) -> Outcome:
    """Send the script, serve its host calls, and turn what comes back into a `RunResult`."""
    started = time.monotonic()
    deadline = started + limits.timeout_s
    budget = CallBudget(limits)
    frozen: Mapping[str, frozenset[str]] = {obj: frozenset(names) for obj, names in bindings.items()}
    wire_bindings = {obj: sorted(names) for obj, names in frozen.items()}
    try:
        await worker.send({"op": "run", "code": code, "bindings": wire_bindings, "limits": _limits_message(limits)})
        while True:
            with anyio.move_on_after(deadline + KILL_GRACE_S - time.monotonic()):
                message = await worker.receive()
                if message["op"] == "done":
                    return Outcome(_from_done(message, budget.used, started), not message.get("recycle"))
                if message["op"] != "call":
                    raise WorkerDied(f"unexpected {message['op']!r} message from worker")
                reply = await serve_calls(message, host=host, bindings=frozen, budget=budget, deadline=deadline)
                await worker.send(reply)
                continue
            worker.kill()  # past the deadline and the grace: the only sure way to stop it
            timeout = ScriptError("limit", limit_message("timeout_s", limits))
            return Outcome(_failed(timeout, budget.used, started), False)
    except WorkerDied:
        if worker.killed:
            raise
        worker.kill()
        return Outcome(_failed(await _death_error(worker, limits), budget.used, started), False)
