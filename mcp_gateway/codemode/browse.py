"""The three read-only meta-tools: `listToolFiles`, `readToolFile`, `getToolDocs`.

Each answers from a `CodeView` (the caller's view) and returns a `Reply`; nothing here can see a
tool outside the view.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from mcp_gateway.codemode.cache import LruCache
from mcp_gateway.codemode.schema_docs import example_value, outline
from mcp_gateway.codemode.schema_types import py_literal
from mcp_gateway.codemode.search import SearchIndex
from mcp_gateway.codemode.spec import result_schema
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.trim import fit_lines
from mcp_gateway.codemode.view import BoundTool, CodeView, ServerView, listing_context

__all__ = ["Browser", "Reply"]

MAX_SUGGESTIONS = 30


@dataclass(frozen=True, slots=True)
class Reply:
    """A meta-tool's answer: text for the model, and whether it reports a mistake."""

    text: str
    is_error: bool = False


class Browser:
    """Answers the read-only meta-tools within a size budget (characters)."""

    def __init__(self, texts: Texts, *, budget: int, max_queries: int = 256) -> None:
        self._texts = texts
        self._budget = budget
        self._queries: LruCache[tuple[CodeView, str], str] = LruCache(max_queries)
        self._indexes: LruCache[CodeView, SearchIndex] = LruCache(64)

    def list_files(self, view: CodeView, query: str | None) -> Reply:
        """`listToolFiles`: the tree, or the part of it matching `query`."""
        key = (view, (query or "").strip())
        return Reply(self._queries.get_or_make(key, lambda: self._render_query(view, key[1])))

    def _render_query(self, view: CodeView, query: str) -> str:
        matches = None
        if query:
            matches = self._indexes.get_or_make(view, lambda: SearchIndex(view.servers)).search(query)
        if matches is None:
            return self._fit(view.listing.lines)
        text = self._texts.render("listing.j2", **listing_context(view, query, matches))
        return self._fit(text.splitlines())

    def _fit(self, lines: tuple[str, ...] | list[str]) -> str:
        shown = fit_lines(lines, 0, len(lines), self._budget)
        text = "\n".join(lines[:shown])
        if shown < len(lines):
            text += "\n" + self._texts.message("listing_trimmed", cut_lines=len(lines) - shown)
        return text

    def read_file(self, view: CodeView, file_name: str, start: int | None, end: int | None) -> Reply:
        """`readToolFile`: lines `start`..`end` (1-based, inclusive, clamped) of a file."""
        path = _find_file(view, file_name)
        if path is None:
            names = sorted(view.files)
            suggestions = names if len(names) <= MAX_SUGGESTIONS else _closest(file_name, names)
            message = self._texts.message("unknown_file", name=file_name, suggestions=suggestions, total=len(names))
            return Reply(message, is_error=True)
        lines = view.files[path].lines
        total = len(lines)
        first = min(max(start or 1, 1), max(total, 1))
        last = min(max(end if end is not None else total, first), total)
        shown = fit_lines(lines, first - 1, last, self._budget) if total else 0
        text = self._texts.render(
            "read_file.j2",
            path=path,
            total=total,
            start=first,
            end=last,
            text="\n".join(lines[first - 1 : first - 1 + shown]),
            next_line=first + shown if first + shown <= last else None,
        )
        return Reply(text.rstrip("\n"))

    def tool_docs(self, view: CodeView, server_name: str, tool_name: str) -> Reply:
        """`getToolDocs`: everything about one tool."""
        server = _find_server(view, server_name)
        if server is None:
            names = [s.name for s in view.servers]
            return Reply(self._texts.message("unknown_server", server=server_name, servers=names), is_error=True)
        bound = _find_tool(server, tool_name)
        if bound is None:
            idents = [t.ident for t in server.tools]
            suggestions = idents if len(idents) <= MAX_SUGGESTIONS else _closest(tool_name, idents)
            message = self._texts.message(
                "unknown_tool", server=server.name, tool=tool_name, suggestions=suggestions, total=len(idents)
            )
            return Reply(message, is_error=True)
        return Reply(self._texts.render("tool_docs.j2", **_docs_context(server, bound)).rstrip("\n"))


def _docs_context(server: ServerView, bound: BoundTool) -> dict[str, Any]:
    tool, spec = bound.tool, bound.spec
    root = tool.input_schema
    params = [
        {
            "param": p,
            "enum": p.schema.get("enum") if isinstance(p.schema.get("enum"), list) else None,
            "rows": outline(p.schema, root, prefix=p.ident),
        }
        for p in spec.params
    ]
    out = result_schema(tool)
    args = ", ".join(f"{p.ident}={py_literal(example_value(p.schema, root))}" for p in spec.params if p.required)
    return {
        "server": server,
        "tool": bound,
        "description": "\n".join(line.rstrip() for line in (tool.description or "").strip().splitlines()),
        "params": params,
        "result_rows": outline(out, out) if out is not None else [],
        "has_output_schema": out is not None,
        "example": f"{bound.call_name}({args})",
    }


def _find_file(view: CodeView, name: str) -> str | None:
    """The path `name` means: exact, or without `servers/` or `.pyi`, or with a script global or
    upstream tool name in place of the file's names."""
    path = name.strip().replace("\\", "/").lstrip("./")
    if not path.startswith("servers/"):
        path = "servers/" + path
    if not path.endswith(".pyi"):
        path = path.removesuffix(".py") + ".pyi"
    if path in view.files:
        return path
    parts = path[len("servers/") : -len(".pyi")].split("/")
    server = view.by_server.get(parts[0])
    if server is None or len(parts) > 2:
        return None
    if len(parts) == 1:
        candidate = f"servers/{server.name}.pyi"
    else:
        bound = _find_tool(server, parts[1])
        candidate = f"servers/{server.name}/{bound.ident}.pyi" if bound else ""
        if server.binding == "server" and bound is not None:
            candidate = f"servers/{server.name}.pyi"
    return candidate if candidate in view.files else None


def _find_server(view: CodeView, name: str) -> ServerView | None:
    name = name.strip()
    found = view.by_server.get(name)
    if found is None:
        lowered = name.lower()
        found = next((s for key, s in view.by_server.items() if key.lower() == lowered), None)
    return found


def _find_tool(server: ServerView, name: str) -> BoundTool | None:
    """By method name, upstream name, `global.method`, or exposed name; then ignoring case."""
    name = name.strip()
    for candidate in (name, name.rpartition(".")[2]):
        found = server.by_ident.get(candidate) or server.by_name.get(candidate)
        if found is not None:
            return found
    lowered = name.lower()
    for bound in server.tools:
        if lowered in (bound.ident.lower(), bound.tool.name.lower(), bound.exposed_key.lower()):
            return bound
    return None


def _closest(name: str, names: list[str]) -> list[str]:
    return difflib.get_close_matches(name, names, n=10, cutoff=0.4) or names[:10]
