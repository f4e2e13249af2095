"""Hide secrets in tool arguments and results before they are logged, and trim long results.

Two kinds of rule, applied together:

- **names** (on by default): any key, at any depth, whose name is a common secret name such as
  `password`, `token`, `api_key`, `Authorization`, `client_secret` or `Cookie`. Names compare
  without case and without `-`/`_`, and a key also matches when it *ends* with one
  (`github_token`, `X-Api-Key`, `db_password`), so `max_tokens` or `token_count` do not.
- **field rules** from the config: for tools matching a glob, hide the values at field paths such
  as `headers.x-auth` or `items[*].ssn` (keys compared without case; `*` is any key or element).

A hidden value, whatever its type, becomes the string `"[REDACTED]"`. Nothing else changes: a
value without secrets is returned as the very same object, and containers are copied only along
the paths that change. Results are understood in their MCP shape: `structuredContent` and every
text content item whose text is JSON get the same treatment (paths anchored at their root). JSON
text that does not parse (a truncated document) or is longer than `PARSE_LIMIT` still has its
`"secret_name": value` pairs hidden, found textually.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mcp_gateway.config.logging import RedactSettings

__all__ = ["DEFAULT_SECRET_NAMES", "PARSE_LIMIT", "REDACTED", "Redactor", "trim"]

REDACTED = "[REDACTED]"

DEFAULT_SECRET_NAMES: tuple[str, ...] = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "api_key", "apikey", "authorization",
    "access_token", "refresh_token", "id_token", "client_secret", "private_key", "secret_key",
    "cookie", "set_cookie", "session_id", "credentials", "credential", "auth",
)  # fmt: skip
"""Hidden at any depth when `redact.default_names` is on (compared as described above)."""

_RESULT_KEYS = frozenset(
    {"content", "structuredContent", "structured_content", "isError", "is_error", "_meta", "meta"}
    | {"resultType", "result_type"}  # SDK 2.x results carry resultType: "complete"
)
_MAX_RULE_CACHE = 4096
PARSE_LIMIT = 1 << 20
"""JSON text longer than this (characters) is not parsed on the request path: secret names are
then found textually as `"name": value` pairs, and field rules do not apply."""
_PAIR = re.compile(
    # A string value may lack its closing quote only where the text was cut off.
    r'(?P<head>"(?P<key>[^"\\]{1,128})"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|-?[\w.+]+)',
)


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def trim(text: str, limit: int) -> tuple[str, int]:
    """`(text cut to at most limit UTF-8 bytes on a character boundary, full size in bytes)`."""
    size = len(text) if text.isascii() else len(text.encode())
    if size <= limit:
        return text, size
    if text.isascii():
        return text[:limit], size
    return text.encode()[:limit].decode(errors="ignore"), size


@dataclass(frozen=True, slots=True)
class _Step:
    key: str | None  # a lower-cased key, or None for '*'
    indexes: tuple[int | None, ...]  # after the key: [N] or [*] (None)


def _parse_path(path: str) -> tuple[_Step, ...]:
    steps = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        indexes = tuple(None if i == "*" else int(i) for i in re.findall(r"\[(\*|\d+)\]", "[" + rest if rest else ""))
        steps.append(_Step(None if name == "*" else name.lower(), indexes))
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class _Rule:
    tool_glob: str
    paths: tuple[tuple[_Step, ...], ...]

    def applies(self, server: str | None, tool: str | None) -> bool:
        names = [f"{server}__{tool}", f"{server}.{tool}", f"{server}/{tool}"] if server else [tool or ""]
        return any(fnmatch.fnmatchcase(name, self.tool_glob) for name in names)


class Redactor:
    """Redaction built from `logging.redact`; `redact(server, tool, value)` is the entry point."""

    def __init__(self, settings: RedactSettings | None = None) -> None:
        settings = settings if settings is not None else RedactSettings()
        names = [*DEFAULT_SECRET_NAMES] if settings.default_names else []
        names += settings.names
        normal = {_normal(n) for n in names if _normal(n)}
        self._names = frozenset(normal)
        # Longest first, so endswith() stops at the most specific suffix; very short names
        # ("pwd", "auth") only match whole keys, or every "oauth"-ish key would vanish.
        self._suffixes = tuple(sorted((n for n in normal if len(n) >= 5), key=len, reverse=True))
        self._rules = tuple(_Rule(r.tool, tuple(_parse_path(p) for p in r.fields)) for r in settings.rules)
        self._key_cache: dict[str, bool] = {}
        self._rule_cache: dict[tuple[str | None, str | None], tuple[tuple[_Step, ...], ...]] = {}

    def is_secret_name(self, key: str) -> bool:
        """Whether a key of this name is hidden wherever it appears."""
        hit = self._key_cache.get(key)
        if hit is None:
            normal = _normal(key)
            hit = bool(normal) and (normal in self._names or normal.endswith(self._suffixes))
            if len(self._key_cache) < _MAX_RULE_CACHE:
                self._key_cache[key] = hit
        return hit

    def _paths_for(self, server: str | None, tool: str | None) -> tuple[tuple[_Step, ...], ...]:
        found = self._rule_cache.get((server, tool))
        if found is None:
            found = tuple(path for rule in self._rules if rule.applies(server, tool) for path in rule.paths)
            if len(self._rule_cache) < _MAX_RULE_CACHE:
                self._rule_cache[(server, tool)] = found
        return found

    def redact(self, server: str | None, tool: str | None, value: Any) -> Any:
        """`value` (arguments, or a result as JSON text or structure) with secrets hidden.

        A JSON string is parsed, redacted and dumped again only if something was hidden; a dict
        in the shape of an MCP tool result is redacted part by part (see the module docstring).
        """
        paths = self._paths_for(server, tool)
        if isinstance(value, str):
            return self._redact_json_text(value, paths)
        return self._dispatch(value, paths)

    def result_text(self, server: str | None, tool: str | None, result: Any, limit: int) -> tuple[str, int]:
        """A result as stored: redacted, JSON text, trimmed to `limit` bytes; and its full size."""
        redacted = self.redact(server, tool, result)
        text = redacted if isinstance(redacted, str) else json.dumps(redacted, ensure_ascii=False, default=str)
        return trim(text, limit)

    def _redact_json_text(self, text: str, paths: tuple[tuple[_Step, ...], ...]) -> str:
        stripped = text.lstrip()
        if not stripped.startswith(("{", "[")):
            return text
        if len(text) > PARSE_LIMIT:
            return self._redact_pairs(text)
        try:
            parsed = json.loads(text)
        except ValueError:
            return self._redact_pairs(text)  # truncated or almost-JSON: still hide "key": value pairs
        redacted = self._dispatch(parsed, paths)
        if redacted is parsed:
            return text
        return json.dumps(redacted, ensure_ascii=False)

    def _redact_pairs(self, text: str) -> str:
        """`"name": value` pairs with a secret name hidden, found textually (no field rules)."""
        if not self._names:
            return text

        def replace(match: re.Match[str]) -> str:
            if not self.is_secret_name(match["key"]):
                return match[0]
            return f'{match["head"]}"{REDACTED}"'

        return _PAIR.sub(replace, text)

    def _dispatch(self, value: Any, paths: tuple[tuple[_Step, ...], ...]) -> Any:
        if isinstance(value, dict) and isinstance(value.get("content"), list) and value.keys() <= _RESULT_KEYS:
            return self._redact_result(value, paths)
        return self._redact_value(value, paths)

    def _redact_result(self, result: dict[str, Any], paths: tuple[tuple[_Step, ...], ...]) -> dict[str, Any]:
        out = result
        content = result["content"]
        new_content = content
        for i, item in enumerate(content):
            if isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("text"), str):
                text = self._redact_json_text(item["text"], paths)
                if text is not item["text"]:
                    if new_content is content:
                        new_content = list(content)
                    new_content[i] = {**item, "text": text}
        if new_content is not content:
            out = {**out, "content": new_content}
        for key in ("structuredContent", "structured_content"):
            if key in result and result[key] is not None:
                structured = self._redact_value(result[key], paths)
                if structured is not result[key]:
                    out = {**out, key: structured} if out is not result else {**result, key: structured}
        return out

    def _redact_value(self, value: Any, paths: tuple[tuple[_Step, ...], ...]) -> Any:
        if self._names:
            value = self._redact_names(value)
        for path in paths:
            value = _redact_path(value, path)
        return value

    def _redact_names(self, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] | None = None
            for key, item in value.items():
                new = REDACTED if isinstance(key, str) and self.is_secret_name(key) else self._redact_names(item)
                if new is not item:
                    if out is None:
                        out = dict(value)
                    out[key] = new
            return value if out is None else out
        if isinstance(value, list):
            new_list: list[Any] | None = None
            for i, item in enumerate(value):
                new = self._redact_names(item)
                if new is not item:
                    if new_list is None:
                        new_list = list(value)
                    new_list[i] = new
            return value if new_list is None else new_list
        return value


def _redact_path(value: Any, path: tuple[_Step, ...]) -> Any:
    """`value` with everything at `path` replaced by REDACTED (copying only what changes)."""
    if not path:
        return REDACTED
    step, rest = path[0], path[1:]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] | None = None
    for key, item in value.items():
        if step.key is not None and (not isinstance(key, str) or key.lower() != step.key):
            continue
        new = _redact_indexes(item, step.indexes, rest)
        if new is not item:
            if out is None:
                out = dict(value)
            out[key] = new
    return value if out is None else out


def _redact_indexes(value: Any, indexes: tuple[int | None, ...], rest: tuple[_Step, ...]) -> Any:
    if not indexes:
        return _redact_path(value, rest) if rest else REDACTED
    if not isinstance(value, list):
        return value
    index, more = indexes[0], indexes[1:]
    positions: Iterable[int] = range(len(value)) if index is None else ([index] if index < len(value) else [])
    out: list[Any] | None = None
    for i in positions:
        new = _redact_indexes(value[i], more, rest)
        if new is not value[i]:
            if out is None:
                out = list(value)
            out[i] = new
    return value if out is None else out
