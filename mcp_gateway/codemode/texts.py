"""Access to the Jinja2 templates in `stubs_templates/`: every word the model reads comes from here."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from mcp_gateway.codemode.schema_docs import one_line
from mcp_gateway.codemode.schema_types import py_literal
from stubs_templates import TEMPLATES_DIR

__all__ = ["Texts"]

MAX_ENUM_VALUES = 40

_TEMPLATES = (
    "server_file.pyi.j2",
    "tool_file.pyi.j2",
    "listing.j2",
    "read_file.j2",
    "tool_docs.j2",
    "execute_result.j2",
    "meta_tools.j2",
    "messages.j2",
)


def _comment_lines(text: str | None) -> list[str]:
    return [one_line(line) for line in (text or "").strip().splitlines()]


def _enum_values(values: Iterable[Any]) -> str:
    items = list(values)
    shown = [py_literal(v) for v in items[:MAX_ENUM_VALUES]]
    extra = len(items) - len(shown)
    return ", ".join(shown) + (f", ... ({extra} more)" if extra > 0 else "")


class Texts:
    """The templates, compiled on first use (the environment keeps them); `check()` compiles all."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=False,  # plain text and Python source, never HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )
        env.filters["one_line"] = one_line
        env.filters["comment_lines"] = _comment_lines
        env.filters["py"] = py_literal
        env.filters["enum_values"] = _enum_values
        self._env = env

    def check(self) -> None:
        """Compile every template now, so that a broken one fails here rather than mid-request."""
        for name in _TEMPLATES:
            self._env.get_template(name)

    def render(self, template: str, /, **context: Any) -> str:
        """Render `template` (one of the files in `stubs_templates/`)."""
        return self._env.get_template(template).render(**context)

    def message(self, macro: str, /, **kwargs: Any) -> str:
        """Call `macro` of `messages.j2`, stripped."""
        module = self._env.get_template("messages.j2").module
        return str(getattr(module, macro)(**kwargs)).strip()

    def meta(self, macro: str, /, *, limits: Any, engine: str) -> str:
        """Call `macro` of `meta_tools.j2` (a meta-tool or `<tool>__<param>` description)."""
        module = self._env.get_template("meta_tools.j2").make_module({"limits": limits, "engine": engine})
        return str(getattr(module, macro)()).strip()
