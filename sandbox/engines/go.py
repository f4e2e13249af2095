"""starlark-go engine (the `starlark-go` package, go.starlark.net underneath).

It cannot interrupt itself: no step counter, no cancellation hook, so the gateway kills the
worker at the deadline. It runs the standard dialect: no recursion, no `while`, no f-strings,
no `set`; top-level `if`/`for` and global reassignment are switched on. It releases the GIL and
reports errors with `.line`/`.column` and a backtrace.
"""

from __future__ import annotations

import re
from typing import Any

import starlark_go as sg

from ..api import EngineName, Limits, ScriptError
from ..bridge import Bridge, BridgeSlot
from ..limits import limit_message
from ..prelude import PRELUDE_FILENAME, SCRIPT_FILENAME, build_prelude
from ..rewrite import Rewritten
from .base import EngineSession, Unconvertible

__all__ = ["GoEngine"]

_FRAME = re.compile(r"^\s+" + re.escape(SCRIPT_FILENAME) + r":(\d+):(\d+): in ", re.MULTILINE)


def _eval_position(exc: Any) -> tuple[int | None, int | None]:
    """Innermost script frame: errors raised in builtins or the prelude report `<builtin>:0:0`."""
    frames = _FRAME.findall(getattr(exc, "backtrace", "") or "")
    if frames:
        line, column = frames[-1]
        return int(line), int(column)
    line = getattr(exc, "line", 0) or None
    return line, (getattr(exc, "column", 0) or None) if line else None


class _Session:
    """One `Starlark` interpreter with the prelude executed; see `EngineSession`."""

    def __init__(self, bindings: dict[str, list[str]]) -> None:
        self.recycle = False
        self._slot = BridgeSlot()
        self._limits = Limits()
        # starlark-go keeps borrowed pointers to these callables: hold them for the session.
        self._callables: dict[str, Any] = {
            "_sandbox_host": self._slot.host,
            "_sandbox_no_method": self._slot.no_method,
            "json_encode": Bridge.json_encode,
            "json_decode": Bridge.json_decode,
        }
        self._print = self._slot.emit
        self._starlark = sg.Starlark(globals=self._callables, print=self._print)
        prelude = build_prelude(bindings, style="dict", define_print=False)
        self._starlark.exec(prelude, filename=PRELUDE_FILENAME)

    @property
    def _bridge(self) -> Bridge:
        return self._slot.bridge

    def execute(self, script: Rewritten, bridge: Bridge, limits: Limits) -> ScriptError | None:
        self._slot.bridge, self._limits = bridge, limits
        try:
            self._starlark.exec(script.text, filename=SCRIPT_FILENAME)
        except sg.SyntaxError as exc:
            return self._mapped("syntax", exc.msg, exc.line, exc.column, script)
        except sg.ResolveError as exc:
            items = list(exc.errors)
            message = "; ".join(item.msg for item in items) or str(exc)
            line, column = (items[0].line, items[0].column) if items else (None, None)
            return self._mapped("syntax", message, line, column, script)
        except sg.EvalError as exc:
            return self._eval_failure(exc, script)
        except MemoryError:
            self.recycle = True
            return ScriptError("limit", limit_message("memory_mb", self._limits))
        except Exception as exc:
            return self._bridge.fault or ScriptError("runtime", str(exc))
        return None

    def _eval_failure(self, exc: sg.EvalError, script: Rewritten) -> ScriptError:
        line, column = _eval_position(exc)
        fault = self._bridge.fault
        if fault is not None:
            if fault.line is not None:
                return fault
            return self._mapped(fault.kind, fault.message, line, column, script)
        message = str(exc.args[0]) if exc.args else str(exc)
        return self._mapped("runtime", message, line, column, script)

    @staticmethod
    def _mapped(kind: Any, message: str, line: int | None, column: int | None, script: Rewritten) -> ScriptError:
        if line is not None and column is not None:
            column = script.original_column(line, column)
        return ScriptError(kind, message, line, column)

    def lookup(self, name: str) -> object:
        try:
            value: object = self._starlark.get(name)  # type: ignore[func-returns-value]  # stub is wrong
            return value
        except KeyError:
            raise
        except sg.ConversionError as exc:
            raise Unconvertible(name) from exc

    def describe(self, name: str) -> str:
        return str(self._starlark.eval(f"str({name})"))


class GoEngine:
    """Factory of sessions."""

    name: EngineName = "go"

    def __init__(self) -> None:
        # Process-wide switches of go.starlark.net: the standard dialect plus top-level statements.
        sg.configure_starlark(allow_set=False, allow_global_reassign=True, allow_recursion=False)

    def warm_up(self) -> None:
        self.open({"warm": ["up"]}).execute(Rewritten("x = [i for i in range(10)]\n"), Bridge.offline(), Limits())

    def open(self, bindings: dict[str, list[str]]) -> EngineSession:
        return _Session(bindings)
