"""The small expression language of plans and replay fixtures.

A plan says which argument values matter; some of them come from earlier results ("the id of the
first team"). Those are written as `{{expr}}` placeholders, evaluated in Python for classic mode
(the scripted model reads the result it received) and compiled to Starlark for Code Mode (the
script reads the value the tool returned). Both sides use the same expression, so one plan drives
both modes.

Grammar: `name accessor* ("|" filter)*` where an accessor is `.key`, `[N]`, `[A:B]`, `["key"]` or
`[*]` (apply the rest of the path to every element), and a filter is `lines` (text -> non-empty
lines), `join` (list -> newline-joined text), `json` (value -> JSON text), `len`, or `after:TEXT` /
`before:TEXT` (the part of a text after / before the first TEXT: how a model picks an id out of a
sentence such as "Created doc (ID: abc)" with plain string operations, which Starlark has), or
`rows:k1,k2` (a list of dicts -> Markdown table rows `| v1 | v2 |`, one per line; keys may be
dotted, `start.dateTime`), `table:k1,k2` (the same cells as a list of lists), `words` (text ->
whitespace-separated words), `at:N` (element N, after a filter), `grep:TEXT` (list items containing
TEXT) or `int` (a number written as text, such as an id, as a number).

A string that is exactly one placeholder stands for the raw value (any type); a string mixing text
and placeholders is rendered as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Expr",
    "TemplateError",
    "parse_expr",
    "references",
    "render",
    "to_starlark",
    "to_text",
]

# One placeholder never spans "}}" or "{{", so "{{a}}{{b}}" is two placeholders, not one.
# Trailing spaces stay in the expression: they may belong to a filter argument ("after:: ").
PLACEHOLDER = re.compile(r"\{\{\s*((?:(?!\}\}|\{\{).)+?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\.(?P<key>[A-Za-z_][\w-]*)
      | \[\s*\*\s*\]
      | \[\s*(?P<lo>-?\d*)\s*:\s*(?P<hi>-?\d*)\s*\]
      | \[\s*(?P<idx>-?\d+)\s*\]
      | \[\s*["'](?P<skey>[^"']+)["']\s*\]""",
    re.VERBOSE,
)
FILTERS = frozenset({"lines", "join", "json", "len", "after", "before", "rows", "table", "at", "words", "grep", "int"})
ARG_FILTERS = frozenset({"after", "before", "rows", "table", "at", "grep"})


class TemplateError(ValueError):
    """An expression that does not parse or does not fit the value it is applied to."""


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed placeholder: a root name, a path of accessors and filters applied in order."""

    root: str
    path: tuple[tuple[str, Any], ...]
    filters: tuple[tuple[str, str], ...]


def parse_expr(text: str) -> Expr:
    """Parse `name.path|filter` into an `Expr`."""
    body, *raw_filters = text.split("|")
    body = body.strip()
    filters: list[tuple[str, str]] = []
    for raw in raw_filters:
        # The argument keeps its spaces (after: "ID: " must match "ID: abc"), only the name is trimmed.
        name, sep, arg = raw.lstrip().partition(":")
        name = name.strip()
        if name not in FILTERS:
            raise TemplateError(f"unknown filter {name!r} in {text!r}")
        if (name in ARG_FILTERS) != bool(sep and arg):
            raise TemplateError(f"filter {name!r} in {text!r}: {sorted(ARG_FILTERS)} take an argument, others none")
        filters.append((name, arg))
    match = re.match(r"[A-Za-z_]\w*", body)
    if not match:
        raise TemplateError(f"expression {text!r} must start with a name")
    root, rest = match.group(0), body[match.end() :]
    path: list[tuple[str, Any]] = []
    while rest:
        tok = _TOKEN.match(rest)
        if not tok:
            raise TemplateError(f"cannot parse {rest!r} in {text!r}")
        if tok.group("key") is not None:
            path.append(("key", tok.group("key")))
        elif tok.group("skey") is not None:
            path.append(("key", tok.group("skey")))
        elif tok.group("idx") is not None:
            path.append(("index", int(tok.group("idx"))))
        elif tok.group("lo") is not None or tok.group("hi") is not None:
            lo, hi = tok.group("lo"), tok.group("hi")
            path.append(("slice", (int(lo) if lo else None, int(hi) if hi else None)))
        else:
            path.append(("each", None))
        rest = rest[tok.end() :]
    return Expr(root, tuple(path), tuple(filters))


def references(value: Any) -> set[str]:
    """Root names used by every placeholder inside `value` (strings, lists, dicts)."""
    found: set[str] = set()
    if isinstance(value, str):
        for m in PLACEHOLDER.finditer(value):
            found.add(parse_expr(m.group(1)).root)
    elif isinstance(value, Mapping):
        for v in value.values():
            found |= references(v)
    elif isinstance(value, list):
        for v in value:
            found |= references(v)
    return found


def to_text(value: Any) -> str:
    """How a value reads when it is put into text: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _walk(value: Any, path: tuple[tuple[str, Any], ...], where: str) -> Any:
    for i, (kind, arg) in enumerate(path):
        if kind == "each":
            if not isinstance(value, list):
                raise TemplateError(f"{where}: [*] applied to {type(value).__name__}")
            return [_walk(item, path[i + 1 :], where) for item in value]
        try:
            value = value[arg] if kind in ("key", "index") else value[slice(*arg)]
        except (KeyError, IndexError, TypeError) as exc:
            raise TemplateError(f"{where}: no {kind} {arg!r} in {to_text(value)[:120]}") from exc
    return value


def _dig(row: Any, dotted: str) -> Any:
    """`row["a"]["b"]` for the key "a.b" of a `rows`/`table` filter."""
    for part in dotted.split("."):
        try:
            row = row[part]
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"no key {dotted!r} in {to_text(row)[:120]}") from exc
    return row


def _star_cell(var: str, dotted: str) -> str:
    return var + "".join(f"[{json.dumps(p)}]" for p in dotted.split("."))


def _apply_filter(value: Any, name: str, arg: str) -> Any:
    if name == "at":
        return value[int(arg)]
    if name == "words":
        return str(value).split()
    if name == "int":
        return int(value)
    if name == "grep":
        return [v for v in value if arg in to_text(v)]
    if name in ("rows", "table"):
        keys = [k.strip() for k in arg.split(",")]
        cells = [[_dig(row, k) for k in keys] for row in value]
        if name == "table":
            return cells
        return "\n".join("| " + " | ".join(to_text(c) for c in row) + " |" for row in cells)
    if name in ("after", "before"):
        text = str(value)
        if arg not in text:
            raise TemplateError(f"{name}:{arg!r} not found in {text[:120]!r}")
        return text.split(arg, 1)[1] if name == "after" else text.split(arg, 1)[0]
    if name == "lines":
        return [line.strip() for line in str(value).splitlines() if line.strip()]
    if name == "join":
        return "\n".join(to_text(v) for v in value)
    if name == "json":
        return json.dumps(value, ensure_ascii=False)
    return len(value)


def evaluate(expr: Expr, scope: Mapping[str, Any]) -> Any:
    """Evaluate a parsed expression against named values."""
    if expr.root not in scope:
        raise TemplateError(f"unknown name {expr.root!r}")
    value = _walk(scope[expr.root], expr.path, expr.root)
    for name, arg in expr.filters:
        value = _apply_filter(value, name, arg)
    return value


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Replace every placeholder in `value` (recursively) using `scope`."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole and value.strip() == value:
            return evaluate(parse_expr(whole.group(1)), scope)
        return PLACEHOLDER.sub(lambda m: to_text(evaluate(parse_expr(m.group(1)), scope)), value)
    if isinstance(value, Mapping):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def _star_path(base: str, path: tuple[tuple[str, Any], ...], depth: int) -> str:
    code = base
    for i, (kind, arg) in enumerate(path):
        if kind == "each":
            var = f"_x{depth}"
            inner = _star_path(var, path[i + 1 :], depth + 1)
            return f"[{inner} for {var} in {code}]"
        if kind == "key":
            code = f"{code}[{json.dumps(arg)}]"
        elif kind == "index":
            code = f"{code}[{arg}]"
        else:
            lo, hi = arg
            code = f"{code}[{'' if lo is None else lo}:{'' if hi is None else hi}]"
    return code


def starlark_literal(value: Any) -> str:
    """A JSON value as Starlark source."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {starlark_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(starlark_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def expr_to_starlark(expr: Expr, names: Mapping[str, str], literals: Mapping[str, Any] | None = None) -> str:
    """Compile an expression to Starlark; `names` maps plan names to script variables or literals.

    Names in `literals` are values the model has already read (results of an earlier script): the
    expression is evaluated now and written into the script as a literal, as a model copies them.
    """
    if literals and expr.root in literals:
        return starlark_literal(evaluate(expr, literals))
    if expr.root not in names:
        raise TemplateError(f"unknown name {expr.root!r}")
    code = _star_path(names[expr.root], expr.path, 0)
    for name, arg in expr.filters:
        if name in ("after", "before"):
            part = 1 if name == "after" else 0
            code = f"str({code}).split({json.dumps(arg)}, 1)[{part}]"
        elif name == "lines":
            code = f'[_l.strip() for _l in str({code}).split("\\n") if _l.strip()]'
        elif name == "join":
            code = f'"\\n".join([str(_v) for _v in {code}])'
        elif name == "json":
            code = f"json_encode({code})"  # the gateway sandbox builtin
        elif name == "at":
            code = f"{code}[{int(arg)}]"
        elif name == "words":
            code = f"str({code}).split()"
        elif name == "int":
            code = f"int({code})"
        elif name == "grep":
            code = f"[_g for _g in {code} if {json.dumps(arg)} in str(_g)]"
        elif name in ("rows", "table"):
            cells = [_star_cell("_r", k.strip()) for k in arg.split(",")]
            if name == "table":
                code = f"[[{', '.join(cells)}] for _r in {code}]"
            else:
                joined = ' + " | " + '.join(f"str({c})" for c in cells)
                code = f'"\\n".join(["| " + {joined} + " |" for _r in {code}])'
        else:
            code = f"len({code})"
    return code


def to_starlark(value: Any, names: Mapping[str, str], literals: Mapping[str, Any] | None = None) -> str:
    """Compile a plan value (with placeholders) into a Starlark expression."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return expr_to_starlark(parse_expr(whole.group(1)), names, literals)
        parts: list[str] = []
        pos = 0
        for m in PLACEHOLDER.finditer(value):
            if m.start() > pos:
                parts.append(json.dumps(value[pos : m.start()], ensure_ascii=False))
            parts.append(f"str({expr_to_starlark(parse_expr(m.group(1)), names, literals)})")
            pos = m.end()
        if pos < len(value) or not parts:
            parts.append(json.dumps(value[pos:], ensure_ascii=False))
        return " + ".join(parts)
    if isinstance(value, Mapping):
        items = ", ".join(f"{json.dumps(k)}: {to_starlark(v, names, literals)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_starlark(v, names, literals) for v in value) + "]"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value)
