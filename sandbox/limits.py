"""Wording of limit errors, shared by the worker and the gateway side."""

from __future__ import annotations

from typing import Literal

from .api import Limits

__all__ = ["LimitName", "limit_message"]

LimitName = Literal["timeout_s", "max_steps", "max_tool_calls", "memory_mb", "max_callstack", "cpu_s", "result_bytes"]

_WHAT: dict[LimitName, str] = {
    "timeout_s": "Script exceeded the wall-clock limit",
    "max_steps": "Script exceeded the step budget",
    "max_tool_calls": "Script exceeded the tool-call limit",
    "memory_mb": "Script exceeded the memory limit",
    "max_callstack": "Script exceeded the call-stack depth limit",
    "cpu_s": "Script exceeded the CPU-time limit",
    "result_bytes": "Script result is too large",
}

_UNIT: dict[LimitName, str] = {"timeout_s": " s", "memory_mb": " MB", "cpu_s": " s"}


def limit_message(name: LimitName, limits: Limits, value: float | None = None) -> str:
    """E.g. `Script exceeded the wall-clock limit (timeout_s=10.0 s)`; `value` overrides the field."""
    if value is None:
        value = getattr(limits, name)
    return f"{_WHAT[name]} ({name}={value}{_UNIT.get(name, '')})"
