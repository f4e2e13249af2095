"""`${VAR}` and `${VAR:-default}` interpolation over parsed YAML values.

Interpolation runs on string values after parsing (never on raw text), so a variable's value
cannot inject YAML structure. `$${` escapes a literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MissingVariable", "interpolate"]

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariable(Exception):
    """A `${VAR}` with no default names a variable that is not set."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        super().__init__(f"environment variable {name} is not set (use ${{{name}:-default}} for a default)")


def _substitute(text: str, env: Mapping[str, str], path: str) -> str:
    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise MissingVariable(path, name)
            return default
        return value

    return _PATTERN.sub(repl, text)


def interpolate(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Return `value` with every string interpolated; `path` is the dotted key path for errors."""
    if isinstance(value, str):
        return _substitute(value, env, path) if "$" in value else value
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
    return value
