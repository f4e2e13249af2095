"""Source rewriting that gives both engines the same host-object semantics and result rule.

Two edits, found with Python's `ast` (Starlark's grammar is, for our purpose, a subset of
Python's; if Python cannot parse the script we leave it alone and the engine reports the error):

1. `github.create_issue` (a binding name, then an attribute, on one line, outside f-strings)
   becomes `_sandbox_bind(github, "github", "create_issue", LINE, COL)`. That gives every host
   call its source position, gives starlark-go (which has no `struct`) attribute syntax, and turns
   an unknown method into a precise error. `_sandbox_bind` falls back to `getattr` when the name
   has been shadowed by an ordinary value, so the rewrite never changes a script's meaning.
2. A final top-level expression statement `expr` becomes `_sandbox_last = expr`, so the "last
   expression" result works the same way in both engines.

Edits never add or remove lines; `Rewritten.original_column` maps a column reported by an
engine back to the script the model wrote.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["LAST_VALUE_NAME", "Edit", "Rewritten", "rewrite"]

LAST_VALUE_NAME = "_sandbox_last"
_BIND = "_sandbox_bind"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace characters [start, end) of one line (0-based, original text) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Rewritten:
    """The rewritten script and how to map its columns back."""

    text: str
    edits: Mapping[int, tuple[Edit, ...]] = field(default_factory=dict)
    """1-based line -> edits on that line, left to right."""
    result_names: tuple[str, ...] = ("result", LAST_VALUE_NAME)
    """Globals that may hold the result, in order of precedence (fewer lookups when known)."""

    def original_column(self, line: int, column: int) -> int:
        """Map a 1-based column of the rewritten text to the original script."""
        shift = 0
        position = column - 1
        for edit in self.edits.get(line, ()):
            new_start = edit.start + shift
            if position < new_start:
                break
            if position < new_start + len(edit.text):
                return edit.start + 1  # inside inserted text: point at what it replaced
            shift += len(edit.text) - (edit.end - edit.start)
        return position - shift + 1


def _char_offset(line_text: str, byte_offset: int) -> int:
    """`ast` reports UTF-8 byte offsets; edits work on characters."""
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore"))


def _host_attributes(tree: ast.Module, objects: Collection[str]) -> Iterator[ast.Attribute]:
    """`obj.method` loads on one line, skipping f-strings (3.11 reports bad positions there)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinedStr):
            continue
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id in objects
            and node.end_lineno == node.lineno
        ):
            yield node
            continue
        stack.extend(ast.iter_child_nodes(node))


def _assigns(tree: ast.Module, name: str) -> bool:
    """Whether `name` is ever bound (over-approximated: function locals count too)."""
    return any(
        isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load) for node in ast.walk(tree)
    )


def _is_load(node: ast.expr) -> bool:
    """`load(...)` is a statement in Starlark: it must not become an assignment."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "load"


def rewrite(source: str, objects: Collection[str]) -> Rewritten:
    """Apply the two edits described in the module docstring."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return Rewritten(source)
    # Same line breaks as `ast` (\n, \r\n, \r); str.splitlines would also split on \f etc.
    lines = io.StringIO(source, newline="").readlines()
    per_line: dict[int, list[Edit]] = {}
    names: tuple[str, ...] = ("result",) if _assigns(tree, "result") else ()
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and not _is_load(last.value):
        col = _char_offset(lines[last.lineno - 1], last.col_offset)
        per_line.setdefault(last.lineno, []).append(Edit(col, col, f"{LAST_VALUE_NAME} = "))
        names += (LAST_VALUE_NAME,)
    for node in _host_attributes(tree, objects):
        assert isinstance(node.value, ast.Name)  # guaranteed by _host_attributes
        text = lines[node.lineno - 1]
        start = _char_offset(text, node.col_offset)
        end = _char_offset(text, node.end_col_offset or node.col_offset)
        obj = node.value.id
        call = f'{_BIND}({obj}, "{obj}", "{node.attr}", {node.lineno}, {start + 1})'
        per_line.setdefault(node.lineno, []).append(Edit(start, end, call))
    edits = {line: tuple(sorted(items, key=lambda e: (e.start, e.end))) for line, items in per_line.items()}
    for line, line_edits in edits.items():
        text = lines[line - 1]
        for edit in reversed(line_edits):
            text = text[: edit.start] + edit.text + text[edit.end :]
        lines[line - 1] = text
    return Rewritten("".join(lines), edits, names)
