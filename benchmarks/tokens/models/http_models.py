"""Real models over HTTP: OpenAI-compatible chat completions and Anthropic-compatible messages.

Written against the documented wire formats with `httpx2`; any provider or proxy speaking one of
them works (a key and a base URL are all they need). The provider's own token counts are kept
beside ours (`reported_input_tokens`). Tested here against a local fake server speaking the
OpenAI format; no real provider is reachable from the build machines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anyio
import httpx2

from benchmarks.tokens.models.base import Conversation, Message, ModelTurn, ToolCall
from benchmarks.tokens.tokens import openai_tools

__all__ = ["AnthropicModel", "HttpModelError", "OpenAIModel", "anthropic_messages", "openai_messages"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
ATTEMPTS = 4


class HttpModelError(RuntimeError):
    """The provider answered with an error that retrying did not fix."""


async def _post(url: str, headers: dict[str, str], body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    delay = 1.0
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout_s)) as http:
        for attempt in range(ATTEMPTS):
            resp = await http.post(url, headers=headers, json=body)
            if resp.status_code == 200:
                data: dict[str, Any] = resp.json()
                return data
            if resp.status_code not in RETRY_STATUSES or attempt == ATTEMPTS - 1:
                raise HttpModelError(f"{url} answered {resp.status_code}: {resp.text[:500]}")
            await anyio.sleep(delay)
            delay *= 2
    raise HttpModelError(f"{url}: no answer")


def openai_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation in OpenAI chat-completions form."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for m in messages:
        if m.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": m.content or None}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                    for c in m.tool_calls
                ]
            out.append(entry)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}


class OpenAIModel:
    """A model behind an OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout_s: float = 300.0) -> None:
        self.name = f"openai:{model}"
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._model = model
        self._timeout = timeout_s

    async def respond(self, conversation: Conversation) -> ModelTurn:
        """One chat-completions request."""
        body: dict[str, Any] = {
            "model": self._model,
            "messages": openai_messages(conversation.system, conversation.messages),
        }
        if conversation.tools:
            body["tools"] = openai_tools(conversation.tools)
        data = await _post(self._url, self._headers, body, self._timeout)
        message = data["choices"][0]["message"]
        calls = tuple(
            ToolCall(c["id"], c["function"]["name"], _arguments(c["function"].get("arguments")))
            for c in message.get("tool_calls") or []
        )
        usage = data.get("usage") or {}
        return ModelTurn(
            content=message.get("content") or "",
            tool_calls=calls,
            reported_input_tokens=usage.get("prompt_tokens"),
            reported_output_tokens=usage.get("completion_tokens"),
        )


def anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation in Anthropic messages form (tool results grouped into user turns)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
            out.append({"role": "assistant", "content": blocks})
        elif m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content, "is_error": m.is_error}
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        else:
            out.append({"role": "user", "content": m.content})
    return out


class AnthropicModel:
    """A model behind an Anthropic-compatible `/v1/messages` endpoint."""

    def __init__(
        self, *, base_url: str, api_key: str, model: str, max_tokens: int = 4096, timeout_s: float = 300.0
    ) -> None:
        self.name = f"anthropic:{model}"
        base = base_url.rstrip("/")
        self._url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        self._headers = {"x-api-key": api_key, "anthropic-version": "2023-06-01", "content-type": "application/json"}
        self._model = model
        self._max_tokens = max_tokens
        self._timeout = timeout_s

    async def respond(self, conversation: Conversation) -> ModelTurn:
        """One messages request."""
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "system": conversation.system,
            "messages": anthropic_messages(conversation.messages),
        }
        if conversation.tools:
            body["tools"] = [
                {"name": t["name"], "description": t.get("description") or "", "input_schema": t.get("inputSchema")}
                for t in conversation.tools
            ]
        data = await _post(self._url, self._headers, body, self._timeout)
        text = "".join(b.get("text", "") for b in data.get("content", []) if b.get("type") == "text")
        calls = tuple(
            ToolCall(b["id"], b["name"], dict(b.get("input") or {}))
            for b in data.get("content", [])
            if b.get("type") == "tool_use"
        )
        usage = data.get("usage") or {}
        return ModelTurn(
            content=text,
            tool_calls=calls,
            reported_input_tokens=usage.get("input_tokens"),
            reported_output_tokens=usage.get("output_tokens"),
        )
