"""Shared helpers for the sandbox tests: a scriptable host and process inspection."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from sandbox import HostCallError, HostCallRequest, Limits, RunResult, Sandbox

BINDINGS = {
    "github": frozenset({"echo", "create_issue", "fail", "slow", "boom", "started", "count"}),
    "notes": frozenset({"add"}),
}


@dataclass
class FakeHost:
    """Host functions for tests; records every request."""

    calls: list[HostCallRequest] = field(default_factory=list)
    started: anyio.Event = field(default_factory=anyio.Event)

    async def __call__(self, call: HostCallRequest) -> Any:
        self.calls.append(call)
        if call.method == "fail":
            raise HostCallError(str(call.kwargs.get("message", "it failed")))
        if call.method == "boom":
            raise RuntimeError("a bug in the host")
        if call.method == "slow":
            await anyio.sleep(float(call.kwargs.get("s", 0.1)))
            return call.kwargs.get("n")
        if call.method == "started":
            self.started.set()
            return None
        if call.method == "count":
            return len(self.calls)
        return {"args": list(call.args), "kwargs": call.kwargs}


async def run(
    sandbox: Sandbox, code: str, host: FakeHost | None = None, *, within: float = 20.0, **limits: Any
) -> RunResult:
    """`sandbox.run` with the test bindings, bounded in time."""
    with anyio.fail_after(within):
        return await sandbox.run(code, bindings=BINDINGS, host=host or FakeHost(), limits=Limits(**limits))


def children(pid: int | None = None) -> list[int]:
    """Direct children of `pid` (default: this process), zombies included, from /proc."""
    parent = os.getpid() if pid is None else pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def rss_kb() -> int:
    """Resident set size of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
