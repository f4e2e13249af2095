"""The Python side of a running script (worker process): output, host calls, faults, budget.

Printed text is sent to the gateway as it is printed (`output` messages, until the byte cap is
reached), so what a script printed survives even when its worker has to be killed.

Engines expose the bridge's methods to Starlark under fixed names (`_sandbox_host`,
`_sandbox_emit`, `_sandbox_no_method`, `json_encode`, `json_decode`). When something must end
the script with a precise error (a failing tool, a limit), the bridge records it as `fault` and
raises `ScriptAbort` to unwind the interpreter; Starlark has no way to catch it, so the recorded
fault is always the reason the script stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, NoReturn

from .api import ErrorKind, Limits, ScriptError
from .limits import limit_message
from .output import OutputMeter

__all__ = ["STEPS_PER_TICK", "Bridge", "BridgeSlot", "HostChannel", "Notify", "ScriptAbort"]

STEPS_PER_TICK = 1000
"""starlark-pyo3 calls `check_cancelled` periodically; measured: once per 1,000 loop iterations
(or calls). So a "step" is about one loop iteration, counted in batches of 1,000."""

HostChannel = Callable[[dict[str, Any]], dict[str, Any]]
"""Sends a `call` message to the gateway and blocks for its `reply`."""

Notify = Callable[[dict[str, Any]], None]
"""Sends a message that gets no reply (`output`)."""

_MODES = ("raise", "collect")


class ScriptAbort(RuntimeError):
    """Unwinds the interpreter after `Bridge.fault` has been set."""


class Bridge:
    """Per-run state shared by the engine callbacks."""

    def __init__(
        self,
        channel: HostChannel,
        notify: Notify,
        limits: Limits,
        deadline: float,
        bindings: dict[str, list[str]],
    ) -> None:
        self._channel = channel
        self._notify = notify
        self._bindings = bindings
        self._limits = limits
        self._deadline = deadline
        self._ticks = 0
        self.output = OutputMeter(limits.max_output_bytes)
        self.fault: ScriptError | None = None

    @classmethod
    def offline(cls) -> Bridge:
        """A bridge for warm-up scripts: no host calls, output discarded, no deadline."""

        def no_channel(message: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("warm-up scripts make no host calls")

        return cls(no_channel, lambda message: None, Limits(), float("inf"), {})

    def host_json(self, payload: str) -> list[Any]:
        """`host` for engines that ship `[mode, calls]` as JSON text."""
        mode, calls = json.loads(payload)
        return self.host(mode, calls)

    def abort(self, kind: ErrorKind, message: str, line: int | None = None, column: int | None = None) -> NoReturn:
        """Record why the script must stop and unwind the interpreter."""
        if self.fault is None:
            self.fault = ScriptError(kind, message, line, column)
        raise ScriptAbort(self.fault.message)

    def emit(self, text: str) -> None:
        """One `print` call, already formatted, without the newline."""
        was_truncated = self.output.truncated
        kept = self.output.admit(text + "\n")
        if kept or self.output.truncated != was_truncated:
            self._notify({"op": "output", "text": kept, "truncated": self.output.truncated})

    def tick(self) -> bool:
        """starlark-pyo3's `check_cancelled`: True stops evaluation (the fault says why)."""
        self._ticks += 1
        if self._ticks * STEPS_PER_TICK > self._limits.max_steps:
            self.fault = self.fault or ScriptError("limit", limit_message("max_steps", self._limits))
            return True
        if time.monotonic() > self._deadline:
            self.fault = self.fault or ScriptError("limit", limit_message("timeout_s", self._limits))
            return True
        return False

    def no_method(self, obj: str, name: str, line: int | None, column: int | None) -> NoReturn:
        """`github.nope`: a runtime error naming the object and listing what it has."""
        methods = ", ".join(sorted(self._bindings.get(obj, ()))) or "none"
        self.abort("runtime", f"{obj} has no method {name!r}; its methods are: {methods}", line, column)

    def host(self, mode: str, calls: list[dict[str, Any]]) -> list[Any]:
        """`_sandbox_host`: run host calls through the gateway; see the prelude for callers."""
        if mode not in _MODES:
            self.abort("runtime", f"errors must be 'raise' or 'collect', got {mode!r}")
        if not calls:
            return []
        if time.monotonic() > self._deadline:
            self.abort("limit", limit_message("timeout_s", self._limits), *_position(calls[0]))
        wire = [
            {
                "obj": call.get("obj"),
                "method": call.get("method"),
                "args": list(call.get("args") or ()),
                "kwargs": call.get("kwargs") or {},
                "line": call.get("line"),
            }
            for call in calls
        ]
        reply = self._channel({"op": "call", "mode": mode, "calls": wire})
        # Time a call spent held for review is not the script's (RunClock on the gateway side).
        self._deadline += float(reply.get("paused_s") or 0.0)
        fault = reply.get("fault")
        if fault is not None:
            index = fault.get("index") or 0
            where = _position(calls[index]) if 0 <= index < len(calls) else (None, None)
            self.abort(fault.get("kind", "internal"), str(fault.get("message")), *where)
        results: list[dict[str, Any]] = reply["results"]
        if mode == "raise":
            return [envelope["value"] for envelope in results]
        return results

    @staticmethod
    def json_encode(value: Any) -> str:
        """Compact JSON, like Starlark's `json.encode`."""
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    @staticmethod
    def json_decode(text: str) -> Any:
        """Parse JSON text into Starlark values."""
        if not isinstance(text, str):
            raise TypeError(f"json_decode() expects a string, got {type(text).__name__}")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"json_decode(): invalid JSON: {exc}") from None


def _position(call: dict[str, Any]) -> tuple[int | None, int | None]:
    line, column = call.get("line"), call.get("column")
    return (line if isinstance(line, int) else None, column if isinstance(column, int) else None)


class BridgeSlot:
    """Stable callables for an interpreter, forwarding to the run's current `Bridge`.

    Lets a worker build the next session (interpreter + prelude) while idle, before the run
    that will use it exists: the session registers these methods once, and `bridge` is set
    when the run starts.
    """

    def __init__(self) -> None:
        self.bridge = Bridge.offline()

    def host(self, mode: str, calls: list[dict[str, Any]]) -> list[Any]:
        """See `Bridge.host`."""
        return self.bridge.host(mode, calls)

    def host_json(self, payload: str) -> list[Any]:
        """See `Bridge.host_json`."""
        return self.bridge.host_json(payload)

    def emit(self, text: str) -> None:
        """See `Bridge.emit`."""
        self.bridge.emit(text)

    def no_method(self, obj: str, name: str, line: int | None, column: int | None) -> NoReturn:
        """See `Bridge.no_method`."""
        self.bridge.no_method(obj, name, line, column)

    def tick(self) -> bool:
        """See `Bridge.tick`."""
        return self.bridge.tick()
