"""The Starlark prelude evaluated before every script: host objects and the builtins.

Shared by both engines. It is written in Starlark (not Python) because starlark-pyo3 cannot
hand a Python callable to a script as a value: every host method is a Starlark closure that
calls one Python callable, `_sandbox_host(calls, mode)`, which the worker provides.

`try_call` and `parallel` need to know which host function they were given without calling it:
a host method called with `_sandbox_describe=True` returns its call description instead. They
recognise host methods by their `str()` (user functions cannot take the prelude's file name in
starlark-pyo3; in starlark-go a look-alike only gets its own script an error).

Names starting with `_sandbox_` are reserved for this machinery.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Literal

__all__ = ["PRELUDE_FILENAME", "SCRIPT_FILENAME", "ObjectStyle", "build_prelude", "validate_bindings"]

PRELUDE_FILENAME = "<prelude>"
SCRIPT_FILENAME = "script.star"

ObjectStyle = Literal["struct", "dict"]
"""How a host object is built: a `struct` (starlark-pyo3) or a `dict` (starlark-go has no struct)."""

# How `_sandbox_call` reaches Python. starlark-pyo3 converts arguments through a slow generic
# path (measured: 5.6 ms for a 30-item list of dicts, 0.6 ms as one JSON string), so calls go
# out as JSON text. Results come back converted directly: slower than `json.decode` (1.9 vs
# 0.4 ms for that list) but `json.decode` sorts dict keys, and tools' key order should survive.
# starlark-go converts cheaply both ways and passes values as they are.
_JSON_CALL = "_sandbox_host(json.encode([mode, calls]))"
_DIRECT_CALL = "_sandbox_host(mode, calls)"

_COMMON = """
def _sandbox_call(calls, mode):
    return %(call)s

def _sandbox_method(obj, name, line, column):
    def _sandbox_host_method(*args, _sandbox_describe = False, **kwargs):
        call = {"obj": obj, "method": name, "args": args, "kwargs": kwargs, "line": line, "column": column}
        if _sandbox_describe:
            return call
        return _sandbox_call([call], "raise")[0]
    return _sandbox_host_method

_SANDBOX_HOST_FN = str(_sandbox_method("", "", None, None))

def _sandbox_bind(value, obj, name, line, column):
    if value != _sandbox_objects[obj]:
        return getattr(value, name)
    if name not in _sandbox_methods[obj]:
        _sandbox_no_method(obj, name, line, column)
    return _sandbox_method(obj, name, line, column)

def _sandbox_describe(builtin, fn, args, kwargs):
    if str(fn) != _SANDBOX_HOST_FN:
        fail(builtin + "() expects a host function such as " + _SANDBOX_EXAMPLE + ", got " + type(fn))
    if type(kwargs) != "dict":
        fail(builtin + "() expects keyword arguments as a dict, got " + type(kwargs))
    return fn(_sandbox_describe = True, *args, **kwargs)

def try_call(fn, *args, **kwargs):
    return _sandbox_call([_sandbox_describe("try_call", fn, args, kwargs)], "collect")[0]

def parallel(calls, errors = "raise"):
    if errors != "raise" and errors != "collect":
        fail('parallel() errors must be "raise" or "collect", got ' + repr(errors))
    if type(calls) != "list" and type(calls) != "tuple":
        fail("parallel() expects a list of [fn, kwargs] pairs, got " + type(calls))
    described = []
    for item in calls:
        if (type(item) != "list" and type(item) != "tuple") or len(item) != 2:
            fail("parallel() expects each call as a [fn, kwargs] pair, got " + repr(item))
        described.append(_sandbox_describe("parallel", item[0], (), item[1]))
    return _sandbox_call(described, errors)
"""

_PRINT = """
def print(*args, sep = " "):
    _sandbox_emit(sep.join([str(a) for a in args]))

json_encode = json.encode
json_decode = json.decode
"""


# Starlark's keywords and the words it reserves; Python's are refused too (`ast` parses scripts).
_RESERVED = frozenset(keyword.kwlist) | {
    "and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load", "not",
    "or", "pass", "return", "while", "as", "assert", "async", "await", "class", "del", "except",
    "finally", "from", "global", "import", "is", "nonlocal", "raise", "try", "with", "yield",
}  # fmt: skip


def validate_bindings(bindings: Mapping[str, frozenset[str]]) -> None:
    """Object and method names must be identifiers a script can write; raise ValueError if not."""
    for obj, methods in bindings.items():
        for name in (obj, *methods):
            if not name.isidentifier() or name in _RESERVED or name.startswith("_sandbox"):
                raise ValueError(f"binding name {name!r} is not a usable Starlark identifier")


def _object_expr(obj: str, methods: list[str], style: ObjectStyle) -> str:
    fields = [(m, f'_sandbox_method("{obj}", "{m}", None, None)') for m in methods]
    if style == "struct":
        return "struct(" + ", ".join(f"{m}={value}" for m, value in fields) + ")"
    return "{" + ", ".join(f'"{m}": {value}' for m, value in fields) + "}"


def build_prelude(bindings: Mapping[str, list[str]], *, style: ObjectStyle, define_print: bool) -> str:
    """Starlark source defining the builtins and one global per binding (methods sorted).

    style="struct" (starlark-pyo3) also means: host calls travel as JSON, and `print`,
    `json_encode`, `json_decode` are defined in Starlark (`define_print` adds `print`).
    """
    example = "github.create_issue"
    for obj, methods in bindings.items():
        if methods:
            example = f"{obj}.{methods[0]}"
            break
    common = _COMMON % {"call": _JSON_CALL if style == "struct" else _DIRECT_CALL}
    parts = [common, f'_SANDBOX_EXAMPLE = "{example}"\n']
    if define_print:
        parts.append(_PRINT)
    objects = ", ".join(f'"{obj}": {obj}' for obj in bindings)
    method_lists = ", ".join(f'"{obj}": {sorted(names)!r}'.replace("'", '"') for obj, names in bindings.items())
    for obj, names in bindings.items():
        parts.append(f"{obj} = {_object_expr(obj, sorted(names), style)}\n")
    parts.append(f"_sandbox_objects = {{{objects}}}\n_sandbox_methods = {{{method_lists}}}\n")
    return "".join(parts)
