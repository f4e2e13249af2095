"""Starlark engines behind one interface (`base.Engine`), and what the gateway side knows of them.

The gateway side never imports an engine module (they load native interpreters); it only reads
`ENGINE_NAMES`. Workers call `load_engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api import EngineName

if TYPE_CHECKING:
    from .base import Engine

__all__ = ["ENGINE_NAMES", "SELF_INTERRUPTING", "load_engine"]

ENGINE_NAMES: tuple[EngineName, ...] = ("pyo3", "go")

SELF_INTERRUPTING: frozenset[str] = frozenset({"pyo3"})
"""Engines that stop themselves at the deadline; the others are killed unless in a host call."""


def load_engine(name: str) -> Engine:
    """Import and construct an engine inside a worker process."""
    if name == "pyo3":
        from .pyo3 import Pyo3Engine

        return Pyo3Engine()
    if name == "go":
        from .go import GoEngine

        return GoEngine()
    raise ValueError(f"unknown engine {name!r}; expected one of {list(ENGINE_NAMES)}")
