"""The catalog: namespaced tools, prompts and resources of every upstream, and change events."""

from mcp_gateway.catalog.catalog import Catalog, CatalogSnapshot
from mcp_gateway.catalog.model import CatalogPrompt, CatalogResource, CatalogTool, ToolKey
from mcp_gateway.catalog.naming import exposed_names

__all__ = [
    "Catalog",
    "CatalogPrompt",
    "CatalogResource",
    "CatalogSnapshot",
    "CatalogTool",
    "ToolKey",
    "exposed_names",
]
