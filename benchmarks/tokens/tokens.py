"""Token accounting: what the model receives on every turn and what it sends back.

Every turn re-sends the whole context (system prompt, tool definitions, all messages so far), so a
query's input tokens are the sum over its turns of the context size on that turn; that is what a
provider bills. Counts use a real BPE tokenizer that works offline (`bpe-openai`'s `o200k_base`
by default). Each part is counted as it travels on the OpenAI chat-completions wire: tool
definitions as the JSON list of `{"type": "function", "function": {...}}`, tool calls as name plus
JSON arguments, plus a small fixed framing cost per message.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.tokens.models.base import Message, ModelTurn

__all__ = [
    "MESSAGE_OVERHEAD",
    "QueryTokens",
    "TokenCounter",
    "TurnTokens",
    "openai_tools",
]

CHUNK_CHARS = 200_000
"""Texts longer than this are counted in pieces (the tokenizer caps one input at 200k tokens)."""

MESSAGE_OVERHEAD = 4
"""Tokens of framing per message (role and separators), as in OpenAI's chat format."""


def openai_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """MCP tool definitions as the OpenAI function list a model receives."""
    return [
        {
            "type": "function",
            "function": {
                "name": t["name"],
                "description": t.get("description") or "",
                "parameters": t.get("inputSchema") or {"type": "object"},
            },
        }
        for t in tools
    ]


class TokenCounter:
    """Counts tokens with one named encoding."""

    def __init__(self, encoding: str = "o200k_base") -> None:
        self.name = encoding
        with warnings.catch_warnings():
            # bpe-openai 0.1.4 loads its tables (on import) with importlib.resources.open_binary,
            # deprecated since Python 3.11; harmless, but test runs turn warnings into errors.
            warnings.simplefilter("ignore", DeprecationWarning)
            import bpe_openai

            self._enc = bpe_openai.get_encoding(encoding)

    def count(self, text: str) -> int:
        """Tokens of a text (special-token markers count as plain text).

        The tokenizer refuses inputs over 200k tokens; longer texts are counted in pieces cut at
        line breaks (a cut can move a count by a token or two, nothing more)."""
        if not text:
            return 0
        if len(text) < CHUNK_CHARS:
            return len(self._enc.encode_ordinary(text))
        total, start = 0, 0
        while start < len(text):
            end = text.rfind("\n", start, start + CHUNK_CHARS) + 1 if start + CHUNK_CHARS < len(text) else len(text)
            end = end if end > start else min(len(text), start + CHUNK_CHARS)
            total += len(self._enc.encode_ordinary(text[start:end]))
            start = end
        return total

    def tools(self, tools: Sequence[dict[str, Any]]) -> int:
        """Tokens of the tool definitions block: the JSON list, counted one definition at a time
        (plus a token per separator) so that 500 tools stay within the tokenizer's input limit."""
        if not tools:
            return 0
        return sum(self.count(json.dumps(t, ensure_ascii=False)) for t in openai_tools(tools)) + len(tools) + 1

    def message(self, msg: Message) -> int:
        """Tokens of one message, cached on it."""
        if msg.tokens is None:
            parts = [msg.content]
            parts += [c.name + json.dumps(c.arguments, ensure_ascii=False) for c in msg.tool_calls]
            msg.tokens = sum(self.count(p) for p in parts) + MESSAGE_OVERHEAD
        return msg.tokens

    def output(self, turn: ModelTurn) -> int:
        """Tokens the model sends back on one turn."""
        calls = sum(self.count(c.name + json.dumps(c.arguments, ensure_ascii=False)) for c in turn.tool_calls)
        return self.count(turn.content) + calls


@dataclass(slots=True)
class TurnTokens:
    """One turn: the context the model received, by category, and its output."""

    input_by_category: Counter[str]
    output: int

    @property
    def input(self) -> int:
        """Total input tokens of the turn."""
        return sum(self.input_by_category.values())


@dataclass(slots=True)
class QueryTokens:
    """All turns of one query; totals are sums over turns."""

    turns: list[TurnTokens] = field(default_factory=list)

    def add_turn(
        self, counter: TokenCounter, system: str, tools_tokens: int, messages: Sequence[Message], output: int
    ) -> TurnTokens:
        """Record the context of one turn (before the model answers) and its output tokens."""
        by_cat: Counter[str] = Counter()
        by_cat["system"] += counter.count(system) + MESSAGE_OVERHEAD
        by_cat["tools"] += tools_tokens
        for msg in messages:
            by_cat[msg.category] += counter.message(msg)
        turn = TurnTokens(by_cat, output)
        self.turns.append(turn)
        return turn

    @property
    def input(self) -> int:
        """Input tokens summed over turns."""
        return sum(t.input for t in self.turns)

    @property
    def output(self) -> int:
        """Output tokens summed over turns."""
        return sum(t.output for t in self.turns)

    @property
    def by_category(self) -> Counter[str]:
        """Input tokens by category, summed over turns."""
        total: Counter[str] = Counter()
        for t in self.turns:
            total.update(t.input_by_category)
        return total

    def cumulative(self) -> list[int]:
        """Running total of input tokens after each turn."""
        out, running = [], 0
        for t in self.turns:
            running += t.input
            out.append(running)
        return out
