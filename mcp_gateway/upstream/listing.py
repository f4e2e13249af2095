"""Fetch everything an upstream offers (tools, prompts, resources, templates), following cursors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import mcp_types as types
from mcp import Client

__all__ = ["Listing", "fetch_listing"]

_MAX_PAGES = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listing:
    """One snapshot of an upstream's offer."""

    tools: tuple[types.Tool, ...] = ()
    prompts: tuple[types.Prompt, ...] = ()
    resources: tuple[types.Resource, ...] = ()
    templates: tuple[types.ResourceTemplate, ...] = ()


async def _all_pages(fetch: Callable[[str | None], Awaitable[Any]], attr: str) -> tuple[Any, ...]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):  # a paginator that never ends must not hang the gateway
        page = await fetch(cursor)
        items.extend(getattr(page, attr))
        cursor = page.next_cursor
        if not cursor:
            break
    return tuple(items)


async def fetch_listing(client: Client) -> Listing:
    """List what `client`'s server offers, skipping what its capabilities do not announce."""
    caps = client.server_capabilities
    tools = await _all_pages(lambda c: client.list_tools(cursor=c), "tools") if caps.tools else ()
    prompts = await _all_pages(lambda c: client.list_prompts(cursor=c), "prompts") if caps.prompts else ()
    resources: tuple[Any, ...] = ()
    templates: tuple[Any, ...] = ()
    if caps.resources:
        resources = await _all_pages(lambda c: client.list_resources(cursor=c), "resources")
        templates = await _all_pages(lambda c: client.list_resource_templates(cursor=c), "resource_templates")
    return Listing(tools=tools, prompts=prompts, resources=resources, templates=templates)
