"""Catalog entries: what the gateway knows about each upstream tool, prompt and resource.

These are plain frozen dataclasses built once per upstream `tools/list` (etc.) and shared by every
part above the catalog: the downstream server, Code Mode's stub renderer and governance views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CatalogPrompt", "CatalogResource", "CatalogTool", "ToolKey"]

ToolKey = tuple[str, str]
"""`(server, upstream tool name)`: the identity governance patterns match against."""


@dataclass(frozen=True, slots=True, eq=False)
class CatalogTool:
    """One upstream tool as the gateway serves it.

    `server` is the server's name in the config, `name` the tool's name as the upstream gives it,
    and `exposed_name` the collision-free namespaced name clients see on `/mcp`
    (see `mcp_gateway.catalog.naming`). Compared and hashed by identity: the catalog builds new
    objects on every refresh, so an object doubles as a version for caches.
    """

    server: str
    name: str
    exposed_name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    title: str | None = None
    annotations: dict[str, Any] | None = None

    @property
    def key(self) -> ToolKey:
        """`(server, name)`, the pair governance patterns are written against."""
        return (self.server, self.name)


@dataclass(frozen=True, slots=True)
class CatalogPrompt:
    """One upstream prompt; `exposed_name` is namespaced like tools."""

    server: str
    name: str
    exposed_name: str
    description: str = ""
    arguments: tuple[dict[str, Any], ...] = ()
    title: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogResource:
    """One upstream resource or resource template.

    Resource URIs are not renamed (clients resolve them as URIs); the gateway routes a
    `resources/read` by remembering which server listed the URI, and templates by prefix.
    """

    server: str
    uri: str
    name: str
    description: str = ""
    mime_type: str | None = None
    is_template: bool = False
    title: str | None = None
