"""Serving a worker's `call` message on the gateway's event loop.

A `call` carries one host call (a direct call or `try_call`) or several (`parallel`); several run
concurrently in a task group. `mode="raise"` stops at the first failure (by completion time) and
cancels the rest; `mode="collect"` returns a `try_call`-style envelope per call. The reply is
either `{"results": [envelope, ...]}` or `{"fault": {...}}` when the script must stop.

The tool-call budget is enforced here, on the trusted side; the deadline by the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from .api import HostCall, HostCallError, HostCallRequest, Limits
from .limits import limit_message

__all__ = ["CallBudget", "serve_calls", "timeout_reply"]

logger = logging.getLogger(__name__)

Message = dict[str, Any]


@dataclass(slots=True)
class CallBudget:
    """Tool calls made so far in one run, against `Limits.max_tool_calls`."""

    limits: Limits
    used: int = 0


class _Stop(Exception):
    """A call in raise mode failed, or the host raised something other than HostCallError."""

    def __init__(self, index: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.fault: Message = {"kind": kind, "message": message, "index": index}


def _fault(kind: str, message: str, index: int = 0) -> Message:
    return {"op": "reply", "fault": {"kind": kind, "message": message, "index": index}}


def _request(call: Any, bindings: Mapping[str, frozenset[str]]) -> HostCallRequest | str:
    """The validated request, or why the call is refused (only `_sandbox_host` abuse gets here)."""
    if not isinstance(call, dict):
        return "malformed host call"
    obj, method, kwargs, args = call.get("obj"), call.get("method"), call.get("kwargs"), call.get("args")
    if not isinstance(obj, str) or not isinstance(method, str) or method not in bindings.get(obj, ()):
        return f"unknown host function {obj}.{method}"
    if not isinstance(kwargs, dict) or not isinstance(args, list):
        return f"malformed arguments for {obj}.{method}"
    line = call.get("line")
    return HostCallRequest(obj, method, kwargs, tuple(args), line if isinstance(line, int) else None)


async def _invoke(host: HostCall, request: HostCallRequest | str, index: int, mode: str) -> Message:
    """One call as an envelope; raise mode turns a failure into `_Stop`."""
    if isinstance(request, str):
        error = request
    else:
        try:
            return {"ok": True, "value": await host(request), "error": None}
        except HostCallError as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:
            logger.exception("host function %s.%s raised", request.obj, request.method)
            where = f"{request.obj}.{request.method}"
            raise _Stop(index, "internal", f"host function {where} failed: {type(exc).__name__}") from exc
        where = f"{request.obj}.{request.method}"
        if not error.startswith(where):  # hosts that already name the call are not prefixed twice
            error = f"{where} failed: {error}"
    if mode == "raise":
        raise _Stop(index, "tool", error)
    return {"ok": False, "value": None, "error": error}


async def _gather(host: HostCall, requests: list[HostCallRequest | str], mode: str) -> list[Message]:
    if len(requests) == 1:  # the common case: skip the task group
        return [await _invoke(host, requests[0], 0, mode)]
    results: list[Message] = [{} for _ in requests]
    stops: list[_Stop] = []

    async def one(index: int, scope: anyio.CancelScope) -> None:
        try:
            results[index] = await _invoke(host, requests[index], index, mode)
        except _Stop as stop:
            stops.append(stop)
            scope.cancel()  # the script is failing: the other calls' results are not needed

    async with anyio.create_task_group() as group:
        for index in range(len(requests)):
            group.start_soon(one, index, group.cancel_scope)
    if stops:
        raise stops[0]
    return results


async def serve_calls(
    message: Message,
    *,
    host: HostCall,
    bindings: Mapping[str, frozenset[str]],
    budget: CallBudget,
) -> Message:
    """Run the calls of one `call` message and build the `reply`.

    The caller bounds it by the run's deadline (cancelling it cancels the host calls).
    """
    calls = message.get("calls")
    mode = message.get("mode")
    if not isinstance(calls, list) or mode not in ("raise", "collect"):
        return _fault("internal", "malformed call message from worker")
    limits = budget.limits
    if budget.used + len(calls) > limits.max_tool_calls:
        return _fault("limit", limit_message("max_tool_calls", limits), max(0, limits.max_tool_calls - budget.used))
    budget.used += len(calls)
    requests = [_request(call, bindings) for call in calls]
    try:
        return {"op": "reply", "results": await _gather(host, requests, mode)}
    except _Stop as stop:
        return {"op": "reply", "fault": stop.fault}


def timeout_reply(limits: Limits) -> Message:
    """The reply to a call still in flight at the deadline: the worker then stops by itself."""
    return _fault("limit", limit_message("timeout_s", limits))
