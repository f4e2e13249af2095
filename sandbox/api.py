"""The sandbox's public contract: what the gateway hands in and what it gets back.

The sandbox knows nothing of MCP. The gateway gives it a script, a description of the host
objects the script may call (`bindings`), a `HostCall` coroutine that performs those calls, and
`Limits`. A script calls `github.create_issue(title="x")`; the worker process sends that call over
IPC to the gateway's event loop, which awaits `host(HostCallRequest(...))` and sends the JSON
result back. Builtins every script has (names are part of the contract; the model reads about
them in `stubs_templates/`):

- `print(*args)`: captured, capped at `Limits.max_output_bytes`.
- `try_call(fn, **kwargs)`: calls a host function and never fails the script; returns
  `{"ok": True, "value": v, "error": None}` or `{"ok": False, "value": None, "error": "message"}`.
- `parallel(calls)`: `calls` is a list of `[fn, kwargs_dict]` pairs; runs them concurrently on the
  host and returns their results in order. Fails the script on the first error, like a direct call;
  `parallel(calls, errors="collect")` returns `try_call`-style envelopes instead.
- `json_encode(value)` / `json_decode(text)`: JSON helpers.

A script's result is the value of a top-level variable named `result` if set, else the value of
the last expression statement, else None.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import anyio

__all__ = [
    "Bindings",
    "ErrorKind",
    "HostCall",
    "HostCallError",
    "HostCallRequest",
    "Limits",
    "RunClock",
    "RunResult",
    "RunStats",
    "ScriptError",
    "Sandbox",
    "EngineName",
    "SandboxClosed",
    "SandboxStartError",
]

JSONValue = Any
"""A value that survives `json.dumps`: None, bool, int, float, str, list, dict with str keys."""

Bindings = Mapping[str, frozenset[str]]
"""Global object name -> the method names callable on it, e.g. `{"github": {"create_issue"}}`."""

ErrorKind = Literal["syntax", "runtime", "limit", "tool", "internal"]

EngineName = Literal["pyo3", "go"]
"""The Starlark interpreters a sandbox can run: starlark-pyo3 (default) or starlark-go."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-run limits. Defaults are safe for an interactive agent."""

    timeout_s: float = 10.0
    """Wall clock for the whole run, tool calls included."""
    max_steps: int = 5_000_000
    """Starlark evaluation steps (engines count differently; roughly bytecode instructions)."""
    max_tool_calls: int = 100
    max_output_bytes: int = 64 * 1024
    """Cap on captured `print` output; beyond it output is dropped and the run marked truncated."""
    memory_mb: int = 256
    """Address-space cap of the worker process (RLIMIT_AS on top of its baseline)."""
    max_callstack: int = 100
    cpu_s: int = 30
    """RLIMIT_CPU of the worker: a backstop if the wall-clock kill ever fails."""


@dataclass(frozen=True, slots=True)
class HostCallRequest:
    """One call from a script to a host function."""

    obj: str
    """The global object name, e.g. `github`."""
    method: str
    """The method name, e.g. `create_issue`."""
    kwargs: dict[str, JSONValue]
    args: tuple[JSONValue, ...] = ()
    line: int | None = None
    """1-based script line of the call, when the engine reports it."""


class RunClock:
    """The wall clock of one run, which the host may stop while a call waits on a person.

    A call held for human approval can wait minutes; that time is not the script's, so the host
    wraps the wait in `with clock.paused():` and the run's deadline moves by as much. Pauses may
    overlap (`parallel` calls held together): the clock runs again when the last one ends. The
    sandbox attaches the run's cancel scope; a clock used before that (or never) just counts.
    """

    def __init__(self) -> None:
        self._scope: anyio.CancelScope | None = None
        self._active = 0
        self._remaining = 0.0
        self.paused_s = 0.0
        """Total time the clock stood still."""

    def attach(self, scope: anyio.CancelScope) -> None:
        """Called by the sandbox with the scope whose deadline is the run's wall clock."""
        self._scope = scope

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the run's wall clock for the duration of the block."""
        started = time.monotonic()
        if self._active == 0 and self._scope is not None:
            self._remaining = max(0.0, self._scope.deadline - started)
            self._scope.deadline = math.inf
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1
            now = time.monotonic()
            if self._active == 0:
                self.paused_s += now - started
                if self._scope is not None:
                    self._scope.deadline = now + self._remaining


class HostCallError(Exception):
    """Raised by a `HostCall` to fail the script's call with a message the model reads."""


HostCall = Callable[[HostCallRequest], Awaitable[JSONValue]]
"""Performs one host call on the gateway's event loop; raises `HostCallError` to fail it."""


@dataclass(frozen=True, slots=True)
class ScriptError:
    """Why a script did not finish. `line`/`column` are 1-based where known."""

    kind: ErrorKind
    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class RunStats:
    """What the run cost."""

    duration_ms: float = 0.0
    tool_calls: int = 0
    output_bytes: int = 0
    output_truncated: bool = False
    worker_killed: bool = False


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of one script: printed output, result value, or an error (never an exception)."""

    output: str = ""
    result: JSONValue = None
    error: ScriptError | None = None
    stats: RunStats = field(default_factory=RunStats)

    @property
    def ok(self) -> bool:
        """True when the script ran to the end."""
        return self.error is None


class SandboxClosed(RuntimeError):
    """`Sandbox.run` was called after (or was interrupted by) `aclose()`."""


class SandboxStartError(RuntimeError):
    """The worker processes could not be started (bad engine, missing interpreter package)."""


class Sandbox(Protocol):
    """A started pool of workers that runs scripts. Build with `sandbox.create_sandbox(...)`."""

    async def run(
        self,
        code: str,
        *,
        bindings: Bindings,
        host: HostCall,
        limits: Limits | None = None,
        clock: RunClock | None = None,
    ) -> RunResult:
        """Run `code` to completion or to a limit; never raises for script faults.

        `clock`, when given, lets `host` stop the wall clock while a call waits (see `RunClock`).
        """
        ...

    async def aclose(self) -> None:
        """Stop every worker process; afterwards `run` raises `SandboxClosed`."""
        ...
