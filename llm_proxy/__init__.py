"""The LLM proxy: OpenAI- and Anthropic-compatible endpoints beside the MCP gateway.

Not built yet. It will share `mcp_gateway.governance` (keys, limits, budgets) and the logging
layer; see the README's status table.
"""

__all__: list[str] = []
