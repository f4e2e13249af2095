"""The small interface every Starlark engine implements (worker side).

An `Engine` is created once per worker process; `open()` gives a fresh `EngineSession` per run
(a new interpreter state, the prelude already evaluated), so nothing leaks between scripts.
Sessions do not need the run to exist yet: the worker opens the next one while it is idle.
"""

from __future__ import annotations

from typing import Protocol

from ..api import EngineName, Limits, ScriptError
from ..bridge import Bridge
from ..rewrite import Rewritten

__all__ = ["Engine", "EngineSession", "Unconvertible"]


class Unconvertible(Exception):
    """A global exists but its value has no JSON form (a function, a struct of functions, ...)."""


class EngineSession(Protocol):
    """One script's interpreter state."""

    recycle: bool
    """Set when the worker should be replaced after this run (e.g. after an out-of-memory panic)."""

    def execute(self, script: Rewritten, bridge: Bridge, limits: Limits) -> ScriptError | None:
        """Run the (rewritten) script once; the error has positions in the original script."""
        ...

    def lookup(self, name: str) -> object:
        """A global's value as JSON-like Python; KeyError if unset, Unconvertible if not data."""
        ...

    def describe(self, name: str) -> str:
        """Starlark's `str()` of a global (the fallback for a non-JSON result)."""
        ...


class Engine(Protocol):
    """A Starlark interpreter binding."""

    name: EngineName

    def warm_up(self) -> None:
        """Pay one-time costs (runtime start, first evaluation) before the worker reports ready."""
        ...

    def open(self, bindings: dict[str, list[str]]) -> EngineSession:
        """A fresh session with the prelude for `bindings` evaluated."""
        ...
