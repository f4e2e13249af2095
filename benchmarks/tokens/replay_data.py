"""What a replayed tool answers: fixtures first, then a result shaped by the output schema.

See `data/replay/README.md` for the fixture format. Everything here is deterministic: the same
call gets the same answer in every run and in both modes, so token counts are comparable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.tokens.template import TemplateError, render, to_text

__all__ = ["LIMIT_ARGS", "Reply", "ReplayBook", "example_from_schema"]

LIMIT_ARGS = ("perPage", "limit", "max_results", "hits_per_page", "page_size", "count", "first", "max_versions")
"""Arguments that cap how many items a list endpoint returns."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A replayed answer: a JSON value (a string is plain text) or an error message."""

    value: Any
    is_error: bool = False


def _stable_id(tool: str, args: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(f"{tool}:{json.dumps(args, sort_keys=True, default=str)}".encode()).hexdigest()
    return digest[:10]


def _matches(when: Mapping[str, Any], args: Mapping[str, Any]) -> bool:
    for key, want in when.items():
        if key not in args:
            return False
        have = args[key]
        if isinstance(want, str) and want.startswith("~"):
            if want[1:].lower() not in to_text(have).lower():
                return False
        elif have != want:
            return False
    return True


def _expand(value: Any, scope: dict[str, Any]) -> Any:
    """Render templates, expanding `$each` blocks into lists."""
    if isinstance(value, Mapping) and "$each" in value:
        items = render(value["$each"], scope)
        name = value.get("$as", "item")
        return [_expand(value["$do"], {**scope, name: item}) for item in items or []]
    if isinstance(value, Mapping):
        return {k: _expand(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, scope) for v in value]
    return render(value, scope)


def _truncate(value: Any, args: Mapping[str, Any]) -> Any:
    """Cut top-level lists to the call's limit argument, as list endpoints do."""
    limit = next((args[a] for a in LIMIT_ARGS if isinstance(args.get(a), int | float)), None)
    if limit is None or limit < 1:
        return value
    n = int(limit)
    if isinstance(value, list):
        return value[:n]
    if isinstance(value, Mapping):
        return {k: (v[:n] if isinstance(v, list) else v) for k, v in value.items()}
    return value


def example_from_schema(schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A small plausible value for a JSON Schema (first enum value, example strings, one item)."""
    if depth > 6:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_from_schema(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: example_from_schema(sub, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [example_from_schema(schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


@dataclass
class ReplayBook:
    """The fixtures of one server plus the little memory that `save`/`load` use."""

    fixtures: Mapping[str, list[dict[str, Any]]]
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ReplayBook:
        """Read a fixture file; a missing file means no fixtures."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        return cls({name: list(variants) for name, variants in (raw or {}).items()})

    def answer(self, tool: dict[str, Any], args: Mapping[str, Any]) -> Reply:
        """Answer one call of `tool` (a captured definition) with `args`."""
        name = tool["name"]
        # Optional parameters the call leaves out read as None, as an API treats absent fields.
        props = (tool.get("inputSchema") or {}).get("properties") or {}
        full = {**dict.fromkeys(props), **args}
        for variant in self.fixtures.get(name, []):
            if _matches(variant.get("when", {}), args):
                return self._from_variant(name, variant, full)
        if tool.get("outputSchema"):
            return Reply(example_from_schema(tool["outputSchema"]))
        return Reply({"ok": True, "tool": name, "arguments": dict(args)})

    def _from_variant(self, name: str, variant: Mapping[str, Any], args: Mapping[str, Any]) -> Reply:
        ident = _stable_id(name, args)
        scope: dict[str, Any] = {"args": dict(args), "id": ident, "n": int(ident, 16) % 999 + 1, "saved": None}
        try:
            if "load" in variant:
                spec = variant["load"]
                scope["saved"] = self.memory.get(spec["ns"], {}).get(to_text(render(spec["key"], scope)))
            if "error" in variant:
                return Reply(to_text(_expand(variant["error"], scope)), is_error=True)
            value = _truncate(_expand(variant.get("result"), scope), args)
            if "save" in variant:
                spec = variant["save"]
                key = to_text(render(spec["key"], scope))
                self.memory.setdefault(spec["ns"], {})[key] = _expand(spec["value"], scope)
        except TemplateError as exc:
            # A call the fixture cannot answer (an argument it reads is missing) is the caller's
            # mistake, answered as a tool error like a real API's 400.
            return Reply(f"Bad request: {exc}", is_error=True)
        return Reply(value)
