"""Turning tool, parameter and server names into identifiers a script can write.

Upstream names are free text (`get-sum`, `2fa.verify`, `API-post-search`, `in`); scripts need
identifiers that are valid in both Starlark and Python (stubs are parsed as Python). The rules,
also stated in `docs/codemode.md`:

1. Every character that is not a letter, digit or `_` becomes `_`; an empty result becomes `_`.
2. A leading digit gets a `_` prefix (`2fa.verify` -> `_2fa_verify`).
3. A Python or Starlark reserved word gets a `_` suffix (`in` -> `in_`, `load` -> `load_`); a
   name starting with `_sandbox` (reserved by the sandbox's machinery) gets an `x` prefix.
4. Within one namespace, names that collide after 1-3 are numbered `_2`, `_3`, ... in a fixed
   order: names that were already identifiers win, then by original name. So the same set of
   names always yields the same identifiers.

Server globals are also kept clear of the sandbox's builtins (`print`, `parallel`, `result`, ...),
which would otherwise be shadowed.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

__all__ = [
    "SCRIPT_RESERVED",
    "STARLARK_RESERVED",
    "WORDS",
    "all_identifiers",
    "python_identifier",
    "unique_identifiers",
    "words",
]

STARLARK_RESERVED = frozenset(
    {
        "and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load",
        "not", "or", "pass", "return", "while", "as", "assert", "async", "await", "class", "del",
        "except", "finally", "from", "global", "import", "is", "nonlocal", "raise", "try", "with",
        "yield", "True", "False", "None",
    }
)  # fmt: skip
"""Keywords of Starlark, including the words it reserves for future use."""

_RESERVED = STARLARK_RESERVED | frozenset(keyword.kwlist)

SCRIPT_RESERVED = frozenset(
    {
        # builtins of the sandbox (sandbox/api.py) and the result convention
        "print", "try_call", "parallel", "json_encode", "json_decode", "result",
        # Starlark's universe: shadowing these would break ordinary scripts
        "abs", "all", "any", "bool", "dict", "dir", "enumerate", "fail", "float", "getattr",
        "hasattr", "hash", "int", "json", "len", "list", "max", "min", "range", "repr",
        "reversed", "sorted", "str", "struct", "tuple", "type", "zip",
    }
)  # fmt: skip
"""Names a server global must not take; such a server's global gets a `_` suffix."""

_NOT_IDENT_CHAR = re.compile(r"\W", re.ASCII)
_SANDBOX_PREFIX = "_sandbox"


def python_identifier(name: str, *, avoid: frozenset[str] = frozenset()) -> str:
    """Rules 1-3 above: a valid identifier for `name`, also avoiding the names in `avoid`."""
    if _plain(name) and name not in avoid:
        return name  # the common case, without the regex
    ident = _NOT_IDENT_CHAR.sub("_", name) or "_"
    if ident[0].isdigit():
        ident = "_" + ident
    if ident.startswith(_SANDBOX_PREFIX):
        ident = "x" + ident
    while ident in _RESERVED or ident in avoid:
        ident += "_"
    return ident


def _plain(name: str) -> bool:
    return name.isascii() and name.isidentifier() and name not in _RESERVED and not name.startswith(_SANDBOX_PREFIX)


def all_identifiers(names: Iterable[str]) -> bool:
    """True when every name is already a valid identifier, so `unique_identifiers` is the identity."""
    return all(_plain(n) for n in names)


def unique_identifiers(names: Iterable[str], *, avoid: frozenset[str] = frozenset()) -> dict[str, str]:
    """Map each distinct name to an identifier, unique within `names` (rule 4 above).

    The answer depends only on the set of names, never on their order.
    """
    distinct = set(names)
    # Names that need no change claim their identifier first, so `get_sum` keeps its name even
    # when `get-sum` sits beside it; the rest follow in sorted order.
    ordered = sorted(distinct, key=lambda n: (python_identifier(n, avoid=avoid) != n, n))
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in ordered:
        base = python_identifier(name, avoid=avoid)
        ident, n = base, 1
        while ident in taken:
            n += 1
            ident = f"{base}_{n}"
        taken.add(ident)
        out[name] = ident
    return out


WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W\d_A-Za-z]+")
"""A word of a name or text: camelCase, snake_case, kebab-case and digits split apart."""


def words(text: str) -> frozenset[str]:
    """The lower-cased words of `text` (`listIssues, get-file` -> list, issues, get, file)."""
    return frozenset(w.lower() for w in WORDS.findall(text))
