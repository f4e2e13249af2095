"""From a script's call to the upstream's arguments: map names back, then validate.

`prepare_arguments` turns `github.create_issue("o", "r", title="t", body=None)` into
`{"owner": "o", "repo": "r", "title": "t"}` under the tool's real parameter names and checks it
against the tool's input schema before anything goes upstream. Every problem raises
`ArgumentError` with a message (from `messages.j2`) naming the parameter, the call and the line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.protocols
import jsonschema.validators

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode.cache import LruCache
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import BoundTool

__all__ = ["ArgumentError", "Validators", "prepare_arguments"]

log = logging.getLogger(__name__)

MAX_PROBLEM_CHARS = 300


class ArgumentError(Exception):
    """The call's arguments do not fit the tool; the message is for the model."""


class Validators:
    """JSON Schema validators, one per `CatalogTool` object, built on first use."""

    def __init__(self, maxsize: int = 50_000) -> None:
        self._cache: LruCache[CatalogTool, jsonschema.protocols.Validator | None] = LruCache(maxsize)

    def get(self, tool: CatalogTool) -> jsonschema.protocols.Validator | None:
        """The validator of `tool`'s input schema, or None if the schema cannot be used."""
        return self._cache.get_or_make(tool, lambda: _make_validator(tool))


def _make_validator(tool: CatalogTool) -> jsonschema.protocols.Validator | None:
    try:
        cls = jsonschema.validators.validator_for(tool.input_schema, default=jsonschema.Draft202012Validator)
        return cls(tool.input_schema)
    except Exception:  # an upstream's broken schema must not break its calls; it goes unvalidated
        log.warning("input schema of %s/%s is unusable; calls go unvalidated", tool.server, tool.name, exc_info=True)
        return None


def prepare_arguments(
    bound: BoundTool,
    kwargs: Mapping[str, Any],
    args: tuple[Any, ...],
    *,
    line: int | None,
    validators: Validators,
    texts: Texts,
) -> dict[str, Any]:
    """The upstream arguments for a script's call, validated; raises `ArgumentError`."""
    spec = bound.spec
    call = bound.call_name

    def fail(message: str, **details: Any) -> ArgumentError:
        return ArgumentError(texts.message(message, call=call, line=line, **details))

    if len(args) > len(spec.params):
        raise fail("too_many_positional", given=len(args), accepted=len(spec.params))
    given: dict[str, Any] = {p.name: value for p, value in zip(spec.params, args, strict=False)}
    for key, value in kwargs.items():
        param = spec.by_ident.get(key) or spec.by_name.get(key)
        if param is None:
            if spec.closed:
                raise fail("unknown_parameter", param=key, known=[p.ident for p in spec.params])
            given[key] = value
            continue
        if param.name in given:
            raise fail("duplicate_parameter", param=param.ident)
        given[param.name] = value
    # The stubs show `= None` for optional parameters, so None means "leave it out" unless the
    # schema itself accepts null.
    out: dict[str, Any] = {}
    for name, value in given.items():
        param = spec.by_name.get(name)
        if value is None and param is not None and not param.nullable:
            continue
        out[name] = value
    missing = [p.ident for p in spec.params if p.required and p.name not in out]
    if missing:
        raise fail("missing_parameter", params=missing)
    _validate(bound, out, validators, fail)
    return out


def _validate(
    bound: BoundTool, arguments: dict[str, Any], validators: Validators, fail: Callable[..., ArgumentError]
) -> None:
    validator = validators.get(bound.tool)
    if validator is None:
        return
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    except Exception:  # a schema that only fails on some input (bad regex, dangling $ref)
        log.warning("validating %s failed inside jsonschema; call goes unvalidated", bound.call_name, exc_info=True)
        return
    if error is None:
        return
    problem = error.message if len(error.message) <= MAX_PROBLEM_CHARS else error.message[:MAX_PROBLEM_CHARS] + "..."
    path = list(error.absolute_path)
    if not path:
        raise fail("invalid_arguments", problem=problem)
    top = str(path[0])
    param = bound.spec.by_name.get(top)
    ident = param.ident if param is not None else top
    shown = ident + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    raise fail("invalid_parameter", param=shown, upstream=top if ident != top else None, problem=problem)
