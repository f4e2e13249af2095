"""How upstream names become the names clients see.

A tool `create-issue` of server `github` is served as `github__create-issue`:

- the separator is a double underscore, which server names may not contain, so the split back
  into `(server, tool)` is unambiguous;
- characters outside `[A-Za-z0-9_-]` become `_`: that is the set every major client and model API
  accepts in tool names (the MCP spec also allows `.`, but OpenAI and Anthropic function names
  do not);
- names longer than 64 characters are cut and end in `_` + 8 hex digits of a hash of the original
  name, so they stay within model-API limits and stay distinct;
- if sanitising makes two tools of one server collide (`a.b` and `a_b`), names that needed no
  change win, then the rest in sorted order; the losers get the hash suffix. The outcome
  depends only on the names, so it is stable across restarts and instances.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = ["MAX_NAME_LENGTH", "SEPARATOR", "exposed_names"]

SEPARATOR = "__"
MAX_NAME_LENGTH = 64
_INVALID = re.compile(r"[^A-Za-z0-9_-]")


def _suffix(original: str) -> str:
    return "_" + hashlib.sha256(original.encode()).hexdigest()[:8]


def _fit(name: str, original: str, force_suffix: bool = False) -> str:
    if force_suffix or len(name) > MAX_NAME_LENGTH:
        return name[: MAX_NAME_LENGTH - 9] + _suffix(original)
    return name


def exposed_names(server: str, names: Iterable[str], *, namespace: bool = True) -> dict[str, str]:
    """Map each upstream name of `server` to its exposed name; collision-free within the server."""
    prefix = f"{server}{SEPARATOR}" if namespace else ""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for original in sorted(set(names), key=lambda n: (_INVALID.search(n) is not None, n)):
        candidate = _fit(prefix + (_INVALID.sub("_", original) or "_"), original)
        if candidate in taken:
            candidate = _fit(prefix + _INVALID.sub("_", original), original, force_suffix=True)
        taken.add(candidate)
        result[original] = candidate
    return result
