"""Starlark sandbox for Code Mode: scripts run in a pool of isolated, resource-limited processes.

Usage (the one supported shape is an async context manager; `aclose()` may also be called
early, from any task)::

    from sandbox import HostCallRequest, Limits, create_sandbox

    async def host(call: HostCallRequest) -> object:
        ...  # perform call.obj.call.method(**call.kwargs) on the event loop

    async with create_sandbox(engine="pyo3", workers=2) as sandbox:
        result = await sandbox.run(
            'issues = github.list_issues(repo="x")\\nlen(issues)',
            bindings={"github": frozenset({"list_issues"})},
            host=host,
            limits=Limits(timeout_s=5),
        )

`create_sandbox` only builds the pool; entering the context starts the worker processes and
waits until they are ready (`SandboxStartError` if they cannot start); leaving it kills and reaps
every worker. The contract (types, builtins, result rule) is in `sandbox.api`; the design,
limits and engine differences are in `docs/sandbox.md`. This package imports nothing from the
gateway and knows nothing of MCP.
"""

from __future__ import annotations

from .api import (
    Bindings,
    EngineName,
    ErrorKind,
    HostCall,
    HostCallError,
    HostCallRequest,
    Limits,
    RunClock,
    RunResult,
    RunStats,
    Sandbox,
    SandboxClosed,
    SandboxStartError,
    ScriptError,
)
from .engines import ENGINE_NAMES
from .pool import WorkerPool

__all__ = [
    "Bindings",
    "EngineName",
    "ErrorKind",
    "HostCall",
    "HostCallError",
    "HostCallRequest",
    "Limits",
    "RunClock",
    "RunResult",
    "RunStats",
    "Sandbox",
    "SandboxClosed",
    "SandboxStartError",
    "ScriptError",
    "WorkerPool",
    "create_sandbox",
]


def create_sandbox(engine: str = "pyo3", workers: int = 2, default_limits: Limits | None = None) -> WorkerPool:
    """A pool of `workers` processes running `engine` ("pyo3" or "go"); use it as `async with`.

    `default_limits` apply to runs that pass no `limits`; its `memory_mb` also sizes the Go
    runtime's soft memory limit at worker start. Raises ValueError for an unknown engine.
    """
    if engine not in ENGINE_NAMES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {list(ENGINE_NAMES)}")
    name: EngineName = "go" if engine == "go" else "pyo3"
    return WorkerPool(name, workers, default_limits or Limits())
