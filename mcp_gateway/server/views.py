"""Per-caller views of the catalog, computed once per (identity view, catalog version).

A view splits the caller's visible tools into those served directly and those served through
Code Mode, and pre-builds the wire objects for `tools/list`, so listing is a dictionary lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import mcp_types as types

from mcp_gateway.catalog.catalog import CatalogSnapshot
from mcp_gateway.catalog.model import CatalogPrompt, CatalogResource, CatalogTool
from mcp_gateway.governance.identity import Identity

__all__ = ["View", "ViewCache", "wire_tool"]

_MAX_CACHED_VIEWS = 4096


@dataclass(frozen=True, slots=True)
class View:
    """What one caller may see and call, at one catalog version."""

    direct_tools: Mapping[str, CatalogTool]
    code_tools: Mapping[str, CatalogTool]
    listed_tools: tuple[types.Tool, ...]
    prompts: Mapping[str, CatalogPrompt]
    resources: Mapping[str, CatalogResource]
    templates: tuple[CatalogResource, ...]
    listed_resources: tuple[types.Resource, ...] = ()
    listed_templates: tuple[types.ResourceTemplate, ...] = ()
    wire_listing: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    """Serialized `tools/list` results by protocol version, filled on first use (see handlers)."""

    def allows_resource(self, uri: str) -> CatalogResource | None:
        """The listed resource for `uri`, or a template of a visible server that could produce it."""
        found = self.resources.get(uri)
        if found is not None:
            return found
        for template in self.templates:
            prefix = template.uri.split("{", 1)[0]
            if prefix and uri.startswith(prefix):
                return template
        return None


def wire_tool(tool: CatalogTool) -> types.Tool:
    """The `tools/list` entry for a catalog tool, under its exposed name."""
    return types.Tool(
        name=tool.exposed_name,
        title=tool.title,
        description=tool.description or None,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=types.ToolAnnotations.model_validate(tool.annotations) if tool.annotations else None,
    )


def wire_resource(resource: CatalogResource) -> types.Resource:
    """The `resources/list` entry for a catalog resource (URIs are not renamed)."""
    return types.Resource(
        uri=resource.uri,
        name=resource.name,
        title=resource.title,
        description=resource.description or None,
        mime_type=resource.mime_type,
    )


def wire_template(template: CatalogResource) -> types.ResourceTemplate:
    """The `resources/templates/list` entry for a catalog resource template."""
    return types.ResourceTemplate(
        uri_template=template.uri,
        name=template.name,
        title=template.title,
        description=template.description or None,
        mime_type=template.mime_type,
    )


class ViewCache:
    """Builds and caches `View`s; the whole cache is dropped when the catalog version moves."""

    def __init__(
        self,
        *,
        code_mode_for: Callable[[Identity, CatalogTool], bool],
        meta_tools: Callable[[], Sequence[types.Tool]],
    ) -> None:
        self._code_mode_for = code_mode_for
        self._meta_tools = meta_tools
        self._catalog_version = -1
        self._wire: dict[int, types.Tool] = {}
        self._views: OrderedDict[tuple[str, int], View] = OrderedDict()

    def clear(self) -> None:
        """Forget every view (the settings they were built from changed)."""
        self._views.clear()

    def get(self, identity: Identity, snapshot: CatalogSnapshot) -> View:
        """The view of `identity` over `snapshot`."""
        if snapshot.version != self._catalog_version:
            self._views.clear()
            self._wire.clear()
            self._catalog_version = snapshot.version
        key = (identity.key_name, identity.view_version)
        view = self._views.get(key)
        if view is None:
            view = self._build(identity, snapshot)
            self._views[key] = view
            if len(self._views) > _MAX_CACHED_VIEWS:
                self._views.popitem(last=False)
        return view

    def _wire_tool(self, tool: CatalogTool) -> types.Tool:
        wire = self._wire.get(id(tool))
        if wire is None:
            wire = self._wire[id(tool)] = wire_tool(tool)
        return wire

    def _build(self, identity: Identity, snapshot: CatalogSnapshot) -> View:
        allows = identity.allows
        direct: dict[str, CatalogTool] = {}
        code: dict[str, CatalogTool] = {}
        for name, tool in snapshot.tools.items():
            if not allows(tool.server, tool.name):
                continue
            (code if self._code_mode_for(identity, tool) else direct)[name] = tool
        listed = [self._wire_tool(t) for t in direct.values()]
        if code:
            listed.extend(self._meta_tools())
        visible_servers = {t.server for t in direct.values()} | {t.server for t in code.values()}
        prompts = {n: p for n, p in snapshot.prompts.items() if allows(p.server, p.name)}
        resources = {u: r for u, r in snapshot.resources.items() if allows(r.server, r.name)}
        # Templates have no concrete name to match; they follow server visibility.
        templates = tuple(t for t in snapshot.templates if t.server in visible_servers or allows(t.server, t.name))
        return View(
            direct_tools=MappingProxyType(direct),
            code_tools=MappingProxyType(code),
            listed_tools=tuple(listed),
            prompts=MappingProxyType(prompts),
            resources=MappingProxyType(resources),
            templates=templates,
            listed_resources=tuple(wire_resource(r) for r in resources.values()),
            listed_templates=tuple(wire_template(t) for t in templates),
        )
