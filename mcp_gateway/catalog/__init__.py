"""The catalog: namespaced tools, prompts and resources of every upstream, and change events."""

from mcp_gateway.catalog.model import CatalogPrompt, CatalogResource, CatalogTool, ToolKey

__all__ = ["CatalogPrompt", "CatalogResource", "CatalogTool", "ToolKey"]
