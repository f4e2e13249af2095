"""starlark-pyo3 (starlark-rust) engine: the default.

It interrupts itself: `check_cancelled` runs about every 1,000 instructions and enforces the
wall clock and the step budget; `max_callstack_size` bounds recursion. Values cross the boundary
as JSON. Errors are plain `StarlarkError`s whose text carries the message and a ` --> file:L:C`
location (plus a traceback when the error is raised inside a function).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import starlark as sl

from ..api import EngineName, Limits, ScriptError
from ..bridge import Bridge, BridgeSlot, ScriptAbort
from ..limits import limit_message
from ..prelude import PRELUDE_FILENAME, SCRIPT_FILENAME, build_prelude
from ..rewrite import Rewritten
from .base import EngineSession, Unconvertible

__all__ = ["Pyo3Engine"]

PRELUDE_FRAMES = 3
"""Call-stack headroom for prelude functions between a script and a host call (bind, method)."""

_LOCATION = re.compile(r"^ *--> (.*):(\d+):(\d+)$", re.MULTILINE)
_FRAME = re.compile(r"^\s+\* " + re.escape(SCRIPT_FILENAME) + r":(\d+), in ", re.MULTILINE)
_HEADER = re.compile(r"^error: ", re.MULTILINE)
_UNRESOLVED = re.compile(r"^Variable `[^`]*` not found")
_UNSET = re.compile(r"^error: (Variable `[^`]*` not found|Local variable `[^`]*` referenced before assignment)")


def _dialect() -> sl.Dialect:
    dialect = sl.Dialect.extended()
    dialect.enable_f_strings = True
    dialect.enable_top_level_stmt = True
    dialect.enable_load = False
    return dialect


def _is_panic(exc: BaseException) -> bool:
    # pyo3's PanicException derives from BaseException and is not importable by name.
    return type(exc).__name__ == "PanicException"


def _parse_error(text: str) -> tuple[str, int | None, int | None]:
    """Message, line, column (rewritten coordinates) from a StarlarkError's text."""
    header = _HEADER.search(text)
    locations = list(_LOCATION.finditer(text))
    location = locations[-1] if locations else None
    start = header.end() if header else 0
    end = location.start() if location and location.start() > start else len(text)
    message = text[start:end].strip() or text.strip()
    if location and location.group(1) == SCRIPT_FILENAME:
        return message, int(location.group(2)), int(location.group(3))
    frames = _FRAME.findall(text[:start])
    return message, (int(frames[-1]) if frames else None), None


class _Session:
    """One module, prelude evaluated; see `EngineSession`."""

    def __init__(self, engine: Pyo3Engine, bindings: dict[str, list[str]]) -> None:
        self._engine = engine
        self._slot = BridgeSlot()
        self._limits = Limits()
        self.recycle = False
        self._module = sl.Module()
        self._module.add_callable("_sandbox_host", self._slot.host_json)
        self._module.add_callable("_sandbox_emit", self._slot.emit)
        self._module.add_callable("_sandbox_no_method", self._slot.no_method)
        sl.eval_with(sl.EvalOptions(), self._module, engine.prelude_ast(bindings), engine.globals)

    @property
    def _bridge(self) -> Bridge:
        return self._slot.bridge

    def execute(self, script: Rewritten, bridge: Bridge, limits: Limits) -> ScriptError | None:
        self._slot.bridge, self._limits = bridge, limits
        try:
            ast = sl.parse(SCRIPT_FILENAME, script.text, self._engine.dialect)
        except sl.StarlarkError as exc:
            return self._error("syntax", str(exc), script)
        options = sl.EvalOptions(
            check_cancelled=self._bridge.tick,
            max_callstack_size=self._limits.max_callstack + PRELUDE_FRAMES,
        )
        try:
            sl.eval_with(options, self._module, ast, self._engine.globals)
        except BaseException as exc:
            if not (isinstance(exc, Exception) or _is_panic(exc)):
                raise
            return self._failure(exc, script)
        return None

    def _failure(self, exc: BaseException, script: Rewritten) -> ScriptError:
        text = str(exc)
        fault = self._bridge.fault
        if fault is not None:
            if fault.line is not None:
                return fault
            error = self._error(fault.kind, text, script)
            return ScriptError(fault.kind, fault.message, error.line, error.column)
        if _is_panic(exc) or isinstance(exc, MemoryError):
            self.recycle = True
            return ScriptError("limit", limit_message("memory_mb", self._limits))
        if isinstance(exc, ScriptAbort):  # pragma: no cover - abort always records a fault
            return ScriptError("internal", text)
        error = self._error("runtime", text, script)
        if error.message == "Starlark call stack overflow":
            return ScriptError("limit", limit_message("max_callstack", self._limits), error.line, error.column)
        if _UNRESOLVED.match(error.message):
            return ScriptError("syntax", error.message, error.line, error.column)
        return error

    @staticmethod
    def _error(kind: Any, text: str, script: Rewritten) -> ScriptError:
        message, line, column = _parse_error(text)
        if line is not None and column is not None:
            column = script.original_column(line, column)
        return ScriptError(kind, message, line, column)

    def _evaluate(self, expression: str) -> object:
        ast = sl.parse("<export>", expression, self._engine.dialect)
        return sl.eval_with(sl.EvalOptions(), self._module, ast, self._engine.globals).value

    def lookup(self, name: str) -> object:
        # Module.__getitem__ answers None for unset and private names alike, so evaluate instead.
        try:
            return self._evaluate(name)
        except sl.StarlarkError as exc:
            if _UNSET.match(str(exc)):
                raise KeyError(name) from None
            raise Unconvertible(name) from exc

    def describe(self, name: str) -> str:
        return str(self._evaluate(f"str({name})"))


class Pyo3Engine:
    """Factory of sessions; caches the dialect, globals and parsed preludes."""

    name: EngineName = "pyo3"

    def __init__(self) -> None:
        self.dialect = _dialect()
        # struct: host objects; Json: fast host-call transport and json_encode/json_decode.
        self.globals = sl.Globals.extended_by([sl.LibraryExtension.StructType, sl.LibraryExtension.Json])
        self._preludes: dict[tuple[tuple[str, tuple[str, ...]], ...], sl.AstModule] = {}

    def prelude_ast(self, bindings: Mapping[str, list[str]]) -> sl.AstModule:
        """Parsed prelude for these bindings (parsed ASTs are reusable across modules)."""
        key = tuple((obj, tuple(methods)) for obj, methods in sorted(bindings.items()))
        ast = self._preludes.get(key)
        if ast is None:
            if len(self._preludes) >= 64:  # bounded: a gateway has few distinct binding sets
                self._preludes.clear()
            source = build_prelude(bindings, style="struct", define_print=True)
            ast = self._preludes[key] = sl.parse(PRELUDE_FILENAME, source, self.dialect)
        return ast

    def warm_up(self) -> None:
        session = self.open({"warm": ["up"]})
        session.execute(Rewritten("x = [i for i in range(10)]\n"), Bridge.offline(), Limits())

    def open(self, bindings: dict[str, list[str]]) -> EngineSession:
        return _Session(self, bindings)
