"""The neutral conversation format every model adapter reads and writes.

Messages are kept in one provider-neutral shape; adapters translate to the OpenAI or Anthropic wire
format, and token accounting counts what each message carries. `category` says what a message is
for the "where tokens go" breakdown: system, query, model (the model's own turns echoed back),
listing, stubs, docs (Code Mode meta-tool results) and results (tool or script results).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

__all__ = ["Conversation", "Message", "Model", "ModelTurn", "ToolCall", "tool_category"]

Role = Literal["system", "user", "assistant", "tool"]

META_CATEGORIES = MappingProxyType(
    {
        "listToolFiles": "listing",
        "readToolFile": "stubs",
        "getToolDocs": "docs",
        "executeToolCode": "results",
    }
)


def tool_category(tool_name: str) -> str:
    """Accounting category of a tool result: a Code Mode meta-tool's own, else 'results'."""
    return META_CATEGORIES.get(tool_name, "results")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asks for."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class Message:
    """One message of the conversation.

    For tool messages `content` is the text the model receives and `data` the same result as a
    value (structured content, or the text parsed as JSON, or the text), which the scripted model
    reads instead of re-parsing text. `tokens` is filled once by the accountant.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    data: Any = None
    category: str = "query"
    tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a model sees on one turn: system prompt, tool definitions (MCP shape), messages."""

    system: str
    tools: Sequence[dict[str, Any]]
    messages: Sequence[Message]


@dataclass(frozen=True, slots=True)
class ModelTurn:
    """What a model answers: text and/or tool calls, and the provider's token counts if known."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    reported_input_tokens: int | None = None
    reported_output_tokens: int | None = None
    failure: str | None = None
    """Set by the scripted model when it cannot go on (the reason a query failed)."""
    extra: dict[str, Any] = field(default_factory=dict)


class Model(Protocol):
    """A model the agent loop can drive."""

    name: str

    async def respond(self, conversation: Conversation) -> ModelTurn:
        """Answer one turn."""
        ...
