"""What Code Mode derives from one `CatalogTool`: parameters, stub signature, return type, summary.

A `ToolSpec` depends on the tool object alone (not on the view or on other tools), so it is
computed once per `CatalogTool` object and shared by every view that contains the tool. Only what
every stub file needs (signature, return type, summary) is computed up front, in one pass that
allocates little; `params` and the lookups used by calls and docs are derived on first use. That
keeps a full re-render of a 5,000-tool catalog within its budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode.naming import all_identifiers, unique_identifiers
from mcp_gateway.codemode.schema_docs import one_line, shape, summary
from mcp_gateway.codemode.schema_types import annotation, is_nullable, py_literal, resolve

__all__ = ["ParamSpec", "ToolSpec", "build_spec", "result_schema"]

MAX_DEFAULT_CHARS = 40
# FastMCP wraps a non-object return value as {"result": value} and marks the schema so.
_FASTMCP_WRAP = "x-fastmcp-wrap-result"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One top-level parameter of a tool."""

    name: str
    """The real name the upstream expects."""
    ident: str
    """The name in the stub and in scripts (equal to `name` when that is an identifier)."""
    annotation: str
    required: bool
    schema: dict[str, Any]
    """The parameter's schema, `$ref` resolved."""
    root: dict[str, Any]
    """The tool's whole input schema, against which nested `$ref`s resolve."""

    @property
    def description(self) -> str:
        """The description on one line (empty when the schema has none)."""
        text = self.schema.get("description")
        return one_line(text) if isinstance(text, str) else ""

    @property
    def has_default(self) -> bool:
        """Whether the schema gives a default."""
        return "default" in self.schema

    @property
    def default(self) -> Any:
        """The schema's default, or None."""
        return self.schema.get("default")

    @property
    def nullable(self) -> bool:
        """Whether `null` is a valid value; if not, a script's None means "leave it out"."""
        return is_nullable(self.schema, self.root)

    @property
    def default_text(self) -> str:
        """The default as the stub shows it: the schema's default, `...` when long, else None."""
        return _default_text(self.schema)


# Not frozen, for the lazily filled fields; treat it as read-only.
@dataclass(slots=True, eq=False)
class ToolSpec:
    """Everything about one tool that does not depend on the caller's view."""

    tool: CatalogTool
    signature: str
    """`owner: str, repo: str, body: str = None`: required parameters first, in schema order."""
    returns: str
    return_shape: str | None
    summary: str
    closed: bool
    """Unknown parameters are rejected: the schema lists properties and does not allow others."""
    unwrap_result: bool
    """The structured result is FastMCP's `{"result": value}` wrapper; scripts get `value`."""
    _params: tuple[ParamSpec, ...] | None = field(default=None, repr=False)
    _by_ident: dict[str, ParamSpec] | None = field(default=None, repr=False)
    _by_name: dict[str, ParamSpec] | None = field(default=None, repr=False)

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        """The parameters in stub order (as in `signature`)."""
        if self._params is None:
            self._params = tuple(_params(self.tool))
        return self._params

    @property
    def by_ident(self) -> dict[str, ParamSpec]:
        """Parameters by stub name."""
        if self._by_ident is None:
            self._by_ident = {p.ident: p for p in self.params}
        return self._by_ident

    @property
    def by_name(self) -> dict[str, ParamSpec]:
        """Parameters by real name."""
        if self._by_name is None:
            self._by_name = {p.name: p for p in self.params}
        return self._by_name


def result_schema(tool: CatalogTool) -> dict[str, Any] | None:
    """The schema of what a script receives from `tool`, unwrapped like the result itself."""
    out = tool.output_schema
    if not isinstance(out, dict):
        return None
    if out.get(_FASTMCP_WRAP):
        props = out.get("properties")
        if isinstance(props, dict) and isinstance(props.get("result"), dict):
            return {**props["result"], **({"$defs": out["$defs"]} if "$defs" in out else {})}
    return out


def build_spec(tool: CatalogTool) -> ToolSpec:
    """Derive the `ToolSpec` of `tool`; never raises on odd schemas (they render as `Any`)."""
    root, props, required = _top_level(tool)
    idents = None if all_identifiers(props) else unique_identifiers(props)
    head: list[str] = []
    tail: list[str] = []
    for name, sub in props.items():
        # The hot loop of a full re-render: the common plain schema skips the function calls.
        target = sub if type(sub) is dict and "$ref" not in sub else resolve(sub, root)
        if type(target) is not dict:
            target = {}
        kind = target.get("type")
        note = _PLAIN.get(kind) if type(kind) is str and _is_plain(target) else None
        if note is None:
            note = annotation(target, root)
        ident = name if idents is None else idents[name]
        if name in required:
            head.append(f"{ident}: {note}")
        elif target.get("default") is None:
            tail.append(f"{ident}: {note} = None")
        else:
            tail.append(f"{ident}: {note} = {_default_text(target)}")
    out = result_schema(tool)
    returns, return_shape = "Any", None
    if out is not None:
        returns = annotation(out, out)
        if "properties" in out or "items" in out:
            return_shape = one_line(shape(out, out))
    schema = resolve(root, root)
    extra = schema.get("additionalProperties", False) if isinstance(schema, dict) else True
    return ToolSpec(
        tool=tool,
        signature=", ".join(head + tail),
        returns=returns,
        return_shape=return_shape,
        summary=summary(tool.description) or one_line(tool.title),
        closed=bool(props) and extra is False,
        unwrap_result=bool(isinstance(tool.output_schema, dict) and tool.output_schema.get(_FASTMCP_WRAP)),
    )


_PLAIN = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _is_plain(schema: dict[str, Any]) -> bool:
    return (
        "enum" not in schema
        and "const" not in schema
        and "anyOf" not in schema
        and "oneOf" not in schema
        and "allOf" not in schema
    )


def _top_level(tool: CatalogTool) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    root: dict[str, Any] = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    schema = resolve(root, root)
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return root, {}, set()
    names = schema.get("required")
    required = {r for r in names if isinstance(r, str)} if isinstance(names, list) else set()
    return root, props, required


def _params(tool: CatalogTool) -> list[ParamSpec]:
    root, props, required = _top_level(tool)
    idents = unique_identifiers(props) if props else {}
    params = []
    for name, sub in props.items():
        target = resolve(sub, root)
        if not isinstance(target, dict):
            target = {}
        params.append(ParamSpec(str(name), idents[name], annotation(target, root), name in required, target, root))
    params.sort(key=lambda p: not p.required)  # stable: schema order within each group
    return params


def _default_text(schema: dict[str, Any]) -> str:
    default = schema.get("default")
    if default is None:
        return "None"
    text = py_literal(default)
    return text if len(text) <= MAX_DEFAULT_CHARS else "..."
