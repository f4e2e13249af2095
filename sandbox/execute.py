"""One run inside a worker: rewrite, evaluate, export the result, report (worker side)."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from .api import Limits, ScriptError
from .bridge import Bridge, HostChannel, Notify
from .engines.base import EngineSession, Unconvertible
from .limits import limit_message
from .oslimits import clear_run_limits, set_run_limits
from .rewrite import rewrite

__all__ = ["MAX_RESULT_BYTES", "request_bindings", "run_request"]

MAX_RESULT_BYTES = 8 * 1024 * 1024
"""Largest JSON result a script may return (it must fit in one frame with the output)."""


def request_bindings(request: dict[str, Any]) -> dict[str, list[str]]:
    """The bindings of a `run` message (object -> sorted method names)."""
    return {obj: list(names) for obj, names in request["bindings"].items()}


def _encode(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _export(session: EngineSession, names: tuple[str, ...], limits: Limits) -> tuple[str, ScriptError | None]:
    """JSON text of `result`, else of the last expression, else `null`; non-JSON -> its str()."""
    for name in names:
        try:
            value = session.lookup(name)
        except KeyError:
            continue
        except Unconvertible:
            text = _encode(session.describe(name))
        else:
            try:
                text = _encode(value)
            except (TypeError, ValueError):
                text = _encode(session.describe(name))
        if len(text) > MAX_RESULT_BYTES:
            return "null", ScriptError("limit", limit_message("result_bytes", limits, MAX_RESULT_BYTES))
        return text, None
    return "null", None


def run_request(
    session: EngineSession,
    request: dict[str, Any],
    channel: HostChannel,
    notify: Notify,
    baseline_bytes: int,
) -> dict[str, Any]:
    """Execute one `run` message on a fresh session (opened for `request_bindings(request)`)
    and build the `done` message (output went out as it was printed)."""
    limits = Limits(**request["limits"])
    bindings = request_bindings(request)
    bridge = Bridge(channel, notify, limits, time.monotonic() + limits.timeout_s, bindings)
    result_json = "null"
    recycle = False
    set_run_limits(baseline_bytes, limits.memory_mb, limits.cpu_s)
    try:
        script = rewrite(request["code"], bindings)
        error = session.execute(script, bridge, limits)
        if error is None:
            result_json, error = _export(session, script.result_names, limits)
        recycle = session.recycle
    except MemoryError:
        error, recycle = ScriptError("limit", limit_message("memory_mb", limits)), True
    finally:
        clear_run_limits()
    return {
        "op": "done",
        "output_bytes": bridge.output.size,
        "truncated": bridge.output.truncated,
        "result_json": result_json,
        "error": dataclasses.asdict(error) if error else None,
        "recycle": recycle,
    }
