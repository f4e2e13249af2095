"""Load, interpolate and validate a configuration file; every error names file and key path."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mcp_gateway.config.interpolate import MissingVariable, interpolate
from mcp_gateway.config.models import GatewayConfig
from mcp_gateway.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_NAME", "bundled_config_path", "load_config", "parse_config", "resolve_config_path"]

DEFAULT_CONFIG_NAME = "gateway.yaml"


def bundled_config_path() -> Path:
    """The example config shipped with the package (real MCP servers that run offline)."""
    return Path(str(resources.files("mcp_gateway.config").joinpath("default.yaml")))


def resolve_config_path(explicit: str | None) -> Path:
    """`--config` if given, else `./gateway.yaml` if present, else the bundled example."""
    if explicit:
        return Path(explicit)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else bundled_config_path()


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("stdio", "http", "sse", "inprocess") and parts:
            # Discriminated unions add the chosen member's tag to the path; it is noise to a user.
            continue
        elif item in ("oauth", "bearer") and parts and parts[-1] in ("auth", ".auth"):
            continue  # the tag of the `auth:` union, likewise
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def parse_config(data: Any, source: str, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Validate already-parsed YAML data; raise `ConfigError` listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [("", f"the top level must be a mapping, not {type(data).__name__}")])
    try:
        data = interpolate(data, os.environ if env is None else env)
    except MissingVariable as exc:
        raise ConfigError(source, [(exc.path, str(exc))]) from exc
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        problems = [(_loc_to_path(err["loc"]), _message(err)) for err in exc.errors()]
        raise ConfigError(source, problems) from exc


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    tagged_by_type = err.get("ctx", {}).get("discriminator") == "'type'"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found") and tagged_by_type:
        return f"unknown auth type {err['input'].get('type')!r}; expected oauth or bearer"
    if err["type"] == "union_tag_invalid":
        return f"unknown transport {err['input'].get('transport')!r}; expected stdio, http, sse or inprocess"
    if err["type"] == "union_tag_not_found":
        return "missing 'transport' (stdio, http, sse or inprocess)"
    msg: str = err["msg"]
    return msg.removeprefix("Value error, ")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read and validate the YAML file at `path`."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [("", f"invalid YAML: {where}{problem}")]) from exc
    return parse_config(data, source, env)
