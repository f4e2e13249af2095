"""Read what Code Mode shows the model: file trees from `listToolFiles`, stubs from `readToolFile`.

The scripted model may use only what it received, so it reads these texts the way a model would,
without depending on one wording: a listing is a tree of paths (indented names, directories ending
in `/`, files ending in `.pyi`, or whole paths), and a stub is Python that `ast` parses (comment
lines and line-number gutters are tolerated).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = [
    "StubFunction",
    "StubParam",
    "continuation_line",
    "find_file",
    "list_files",
    "normalize",
    "parse_stub",
]

_PYI = re.compile(r"[\w./-]+\.pyi\b")
_GUTTER = re.compile(r"^\s*\d+\s*[:|]\s?")


def normalize(name: str) -> str:
    """Compare names the way a reader would: case-insensitive, any punctuation as '_'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def list_files(listing: str) -> list[str]:
    """Every `.pyi` path in a listing, rebuilt from an indented tree where needed."""
    files: list[str] = []
    stack: list[tuple[int, str]] = []  # (indent, directory path)
    for raw in listing.splitlines():
        line = raw.rstrip()
        body = line.lstrip()
        if not body or body.startswith("#"):
            continue
        indent = len(line) - len(body)
        token = body.split()[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        if token.endswith("/"):
            path = token if "/" in token[:-1] and not parent else parent + token
            stack.append((indent, path))
        elif _PYI.fullmatch(token):
            files.append(token if token.count("/") and token.startswith(parent) else parent + token)
        else:
            files += [m.group(0) for m in _PYI.finditer(body)]
    seen: set[str] = set()
    return [f for f in files if not (f in seen or seen.add(f))]


def find_file(files: list[str], server: str, tool: str) -> str | None:
    """The stub file that holds `server.tool`: a per-tool file if listed, else the server's file."""
    srv, fn = normalize(server), normalize(tool)
    for path in files:
        parts = [normalize(p.removesuffix(".pyi")) for p in path.split("/")]
        if len(parts) >= 2 and parts[-2] == srv and parts[-1] == fn:
            return path
    for path in files:
        if normalize(path.rsplit("/", 1)[-1].removesuffix(".pyi")) == srv:
            return path
    return None


@dataclass(frozen=True, slots=True)
class StubParam:
    """One parameter of a stub signature."""

    name: str
    required: bool
    annotation: str


@dataclass(frozen=True, slots=True)
class StubFunction:
    """One `def` of a stub file."""

    name: str
    params: tuple[StubParam, ...]
    returns: str
    var_kwargs: bool

    def param(self, name: str) -> StubParam | None:
        """The parameter matching `name` (normalized), if the stub shows it."""
        key = normalize(name)
        return next((p for p in self.params if normalize(p.name) == key), None)


def _params(args: ast.arguments) -> tuple[StubParam, ...]:
    out: list[StubParam] = []
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    for i, a in enumerate(positional):
        if a.arg in ("self", "cls"):
            continue
        ann = ast.unparse(a.annotation) if a.annotation else "Any"
        out.append(StubParam(a.arg, i < first_default, ann))
    for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        ann = ast.unparse(a.annotation) if a.annotation else "Any"
        out.append(StubParam(a.arg, default is None, ann))
    return tuple(out)


def parse_stub(text: str) -> list[StubFunction]:
    """Every function signature in a stub text (nested in classes too)."""
    candidates = [text, "\n".join(_GUTTER.sub("", line) for line in text.splitlines())]
    for source in candidates:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        return [
            StubFunction(
                name=node.name,
                params=_params(node.args),
                returns=ast.unparse(node.returns) if node.returns else "Any",
                var_kwargs=node.args.kwarg is not None,
            )
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    return []


def continuation_line(text: str) -> int | None:
    """A 'continue with startLine=N' pointer in a partial file read, if the text gives one."""
    m = re.search(r"startLine\s*[=:]\s*(\d+)", text)
    return int(m.group(1)) if m else None
