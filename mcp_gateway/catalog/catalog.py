"""The aggregated catalog of every upstream, rebuilt when any upstream's listing changes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import mcp_types as types

from mcp_gateway.catalog.model import CatalogPrompt, CatalogResource, CatalogTool
from mcp_gateway.catalog.naming import exposed_names
from mcp_gateway.upstream.listing import Listing

__all__ = ["Catalog", "CatalogSnapshot"]

logger = logging.getLogger("mcp_gateway.catalog")


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """An immutable view of the catalog at one version; readers never see a half-built one."""

    version: int = 0
    tools: Mapping[str, CatalogTool] = field(default_factory=dict)
    prompts: Mapping[str, CatalogPrompt] = field(default_factory=dict)
    resources: Mapping[str, CatalogResource] = field(default_factory=dict)
    """Concrete resources by URI."""
    templates: tuple[CatalogResource, ...] = ()


def _dump(model: Any) -> dict[str, Any] | None:
    if model is None:
        return None
    dumped: dict[str, Any] = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


def _tools(server: str, tools: tuple[types.Tool, ...], namespace: bool) -> list[CatalogTool]:
    names = exposed_names(server, (t.name for t in tools), namespace=namespace)
    return [
        CatalogTool(
            server=server,
            name=t.name,
            exposed_name=names[t.name],
            description=t.description or "",
            input_schema=dict(t.input_schema) if t.input_schema else {"type": "object"},
            output_schema=dict(t.output_schema) if t.output_schema else None,
            title=t.title,
            annotations=_dump(t.annotations),
        )
        for t in tools
    ]


def _prompts(server: str, prompts: tuple[types.Prompt, ...], namespace: bool) -> list[CatalogPrompt]:
    names = exposed_names(server, (p.name for p in prompts), namespace=namespace)
    return [
        CatalogPrompt(
            server=server,
            name=p.name,
            exposed_name=names[p.name],
            description=p.description or "",
            arguments=tuple(a.model_dump(by_alias=True, mode="json", exclude_none=True) for a in p.arguments or ()),
            title=p.title,
        )
        for p in prompts
    ]


class Catalog:
    """Holds each upstream's listing and the merged, namespaced snapshot built from them.

    `update()` is called by upstream supervisors; listeners (downstream sessions) are told after
    every rebuild so they can send `notifications/tools/list_changed`.
    """

    def __init__(self, namespace_for: Callable[[str], bool] = lambda server: True) -> None:
        self._namespace_for = namespace_for
        self._listings: dict[str, Listing] = {}
        self._snapshot = CatalogSnapshot()
        self._listeners: list[Callable[[CatalogSnapshot], None]] = []

    @property
    def snapshot(self) -> CatalogSnapshot:
        """The current snapshot; swap-on-write, so holding one is safe."""
        return self._snapshot

    def subscribe(self, listener: Callable[[CatalogSnapshot], None]) -> Callable[[], None]:
        """Call `listener` after every rebuild; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def update(self, server: str, listing: Listing) -> None:
        """Replace `server`'s listing and rebuild the snapshot if anything changed."""
        if self._listings.get(server) == listing:
            return
        self._listings[server] = listing
        self._rebuild()

    def remove(self, server: str) -> None:
        """Forget `server` (it was removed from the config)."""
        if self._listings.pop(server, None) is not None:
            self._rebuild()

    def _rebuild(self) -> None:
        tools: dict[str, CatalogTool] = {}
        prompts: dict[str, CatalogPrompt] = {}
        resources: dict[str, CatalogResource] = {}
        templates: list[CatalogResource] = []
        for server in sorted(self._listings):
            listing = self._listings[server]
            namespace = self._namespace_for(server)
            for tool in _tools(server, listing.tools, namespace):
                if tool.exposed_name in tools:
                    logger.warning("tool %s of %s hidden: the name is taken", tool.exposed_name, server)
                    continue
                tools[tool.exposed_name] = tool
            for prompt in _prompts(server, listing.prompts, namespace):
                prompts.setdefault(prompt.exposed_name, prompt)
            for res in listing.resources:
                if res.uri in resources:
                    logger.warning(
                        "resource %s of %s hidden: %s lists it too",
                        res.uri,
                        server,
                        resources[res.uri].server,
                    )
                    continue
                resources[res.uri] = CatalogResource(
                    server=server,
                    uri=res.uri,
                    name=res.name,
                    description=res.description or "",
                    mime_type=res.mime_type,
                    title=res.title,
                )
            templates.extend(
                CatalogResource(
                    server=server,
                    uri=t.uri_template,
                    name=t.name,
                    description=t.description or "",
                    mime_type=t.mime_type,
                    is_template=True,
                    title=t.title,
                )
                for t in listing.templates
            )
        self._snapshot = CatalogSnapshot(
            version=self._snapshot.version + 1,
            tools=MappingProxyType(tools),
            prompts=MappingProxyType(prompts),
            resources=MappingProxyType(resources),
            templates=tuple(templates),
        )
        for listener in list(self._listeners):
            listener(self._snapshot)
