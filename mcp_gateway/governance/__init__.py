"""Governance: customers -> teams -> virtual keys, tool groups, views, limits and budgets.

Shared by the MCP side and the LLM proxy; imports nothing from transports, Code Mode or providers.
"""

from mcp_gateway.governance.identity import ALLOW_ALL, Identity, ToolFilter

__all__ = ["ALLOW_ALL", "Identity", "ToolFilter"]
