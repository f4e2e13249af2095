"""The agent loop: a model, a tool session, one query, every turn accounted.

Each turn the model receives the system prompt, the tool definitions and every message so far;
the loop counts that context and the model's output, runs the tool calls the model asks for
through the session (in order), and stops when the model answers without calls or the turn limit
is reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from benchmarks.tokens.client import ToolSession
from benchmarks.tokens.models.base import Conversation, Message, Model, tool_category
from benchmarks.tokens.tokens import QueryTokens, TokenCounter

__all__ = ["AgentRun", "CallRecord", "run_query"]

MAX_TURNS = 16


@dataclass(slots=True)
class CallRecord:
    """One tool call the model made, with its outcome."""

    name: str
    arguments: dict[str, Any]
    is_error: bool
    result_tokens: int


@dataclass(slots=True)
class AgentRun:
    """Everything one query produced."""

    answer: str
    tokens: QueryTokens
    calls: list[CallRecord] = field(default_factory=list)
    failure: str | None = None
    messages: list[Message] = field(default_factory=list)
    reported_input_tokens: int = 0
    reported_output_tokens: int = 0
    seconds: float = 0.0


async def run_query(
    model: Model,
    session: ToolSession,
    counter: TokenCounter,
    system: str,
    query: str,
    *,
    max_turns: int = MAX_TURNS,
    tools: list[dict[str, Any]] | None = None,
    tools_tokens: int | None = None,
) -> AgentRun:
    """Run one query to its final answer. `tools` and `tools_tokens` may be passed to reuse a
    listing across queries (the tool list is the same for every query of a run)."""
    started = anyio.current_time()
    tools = tools if tools is not None else await session.list_tools()
    tools_tokens = tools_tokens if tools_tokens is not None else counter.tools(tools)
    messages = [Message("user", query, category="query")]
    run = AgentRun(answer="", tokens=QueryTokens(), messages=messages)
    for _ in range(max_turns):
        reply = await model.respond(Conversation(system, tools, list(messages)))
        run.tokens.add_turn(counter, system, tools_tokens, messages, counter.output(reply))
        run.reported_input_tokens += reply.reported_input_tokens or 0
        run.reported_output_tokens += reply.reported_output_tokens or 0
        messages.append(Message("assistant", reply.content, tool_calls=reply.tool_calls, category="model"))
        if reply.failure:
            run.failure = reply.failure
        if not reply.tool_calls:
            run.answer = reply.content
            break
        for call in reply.tool_calls:
            outcome = await session.call_tool(call.name, call.arguments)
            msg = Message(
                "tool",
                outcome.text,
                tool_call_id=call.id,
                name=call.name,
                is_error=outcome.is_error,
                data=outcome.data,
                category=tool_category(call.name.rsplit("__", 1)[-1]),
            )
            messages.append(msg)
            run.calls.append(CallRecord(call.name, call.arguments, outcome.is_error, counter.message(msg)))
    else:
        run.failure = run.failure or f"no final answer after {max_turns} turns"
    run.seconds = anyio.current_time() - started
    return run
