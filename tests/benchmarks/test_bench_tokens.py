"""Token accounting on known strings and on the turn structure."""

from __future__ import annotations

from benchmarks.tokens.models.base import Message, ModelTurn, ToolCall
from benchmarks.tokens.tokens import MESSAGE_OVERHEAD, QueryTokens, TokenCounter, openai_tools


def test_known_counts_with_o200k_base() -> None:
    counter = TokenCounter()
    assert counter.name == "o200k_base"
    assert counter.count("") == 0
    assert counter.count("hello world") == 2
    # 600k characters: more than one tokenizer call takes, counted in pieces cut at line breaks
    assert counter.count("hello world\n" * 50_000) == 50 * counter.count("hello world\n" * 1_000)
    assert TokenCounter("cl100k_base").count("hello world") == 2


def test_message_and_output_counts() -> None:
    counter = TokenCounter()
    call = ToolCall("c1", "github__get_me", {})
    msg = Message("assistant", "hello world", tool_calls=(call,), category="model")
    expected = 2 + counter.count("github__get_me{}") + MESSAGE_OVERHEAD
    assert counter.message(msg) == expected
    assert msg.tokens == expected  # cached on the message
    assert counter.output(ModelTurn(content="hello world", tool_calls=(call,))) == expected - MESSAGE_OVERHEAD


def test_tools_block_is_the_openai_function_list() -> None:
    tools = [{"name": "a", "description": "hello world", "inputSchema": {"type": "object"}}]
    assert openai_tools(tools)[0] == {
        "type": "function",
        "function": {"name": "a", "description": "hello world", "parameters": {"type": "object"}},
    }
    counter = TokenCounter()
    assert counter.tools(tools) > counter.count("hello world")
    assert counter.tools([]) == 0


def test_every_turn_resends_the_whole_context() -> None:
    counter = TokenCounter()
    q = QueryTokens()
    messages = [Message("user", "hello world", category="query")]
    first = q.add_turn(counter, "system prompt", 100, messages, output=5)
    messages.append(Message("tool", "hello world", category="listing"))
    second = q.add_turn(counter, "system prompt", 100, messages, output=7)
    system = counter.count("system prompt") + MESSAGE_OVERHEAD
    assert first.input == system + 100 + 2 + MESSAGE_OVERHEAD
    assert second.input == first.input + 2 + MESSAGE_OVERHEAD
    assert q.input == first.input + second.input
    assert q.output == 12
    assert q.by_category["tools"] == 200
    assert q.by_category["listing"] == 2 + MESSAGE_OVERHEAD
    assert q.cumulative() == [first.input, first.input + second.input]
