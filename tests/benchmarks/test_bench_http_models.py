"""The real-model adapters against a tiny local server speaking the providers' wire formats.

No provider is reachable from the build machines, so the OpenAI chat-completions and Anthropic
messages formats are exercised against a loopback fake that checks the request and answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import SocketStream

from benchmarks.tokens.models.base import Conversation, Message, ToolCall
from benchmarks.tokens.models.http_models import AnthropicModel, OpenAIModel

Handler = Callable[[str, dict[str, str], dict[str, Any]], dict[str, Any]]


async def _serve_one(stream: SocketStream, handler: Handler) -> None:
    async with stream:
        raw = b""
        while b"\r\n\r\n" not in raw:
            raw += await stream.receive()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        path = lines[0].split()[1]
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            body += await stream.receive()
        payload = json.dumps(handler(path, headers, json.loads(body))).encode()
        reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        await stream.send(reply + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)


@asynccontextmanager
async def fake_provider(handler: Handler) -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, lambda s: _serve_one(s, handler))
        yield f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


CONVERSATION = Conversation(
    system="be brief",
    tools=[{"name": "github__get_me", "description": "who am I", "inputSchema": {"type": "object"}}],
    messages=[
        Message("user", "who am I?"),
        Message("assistant", "", tool_calls=(ToolCall("c1", "github__get_me", {}),)),
        Message("tool", '{"login": "bench-user"}', tool_call_id="c1"),
    ],
)


async def test_openai_chat_completions_wire_format() -> None:
    seen: dict[str, Any] = {}

    def handler(path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        seen.update(path=path, auth=headers["authorization"], body=body)
        return {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "c2", "type": "function", "function": {"name": "x__y", "arguments": '{"a": 1}'}}
                        ],
                    }
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 9},
        }

    with anyio.fail_after(10):
        async with fake_provider(handler) as base:
            turn = await OpenAIModel(base_url=base + "/v1", api_key="k", model="m").respond(CONVERSATION)
    assert seen["path"] == "/v1/chat/completions"
    assert seen["auth"] == "Bearer k"
    messages = seen["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2]["tool_calls"][0]["function"] == {"name": "github__get_me", "arguments": "{}"}
    assert messages[3]["tool_call_id"] == "c1"
    assert seen["body"]["tools"][0]["function"]["name"] == "github__get_me"
    assert turn.tool_calls == (ToolCall("c2", "x__y", {"a": 1}),)
    assert (turn.reported_input_tokens, turn.reported_output_tokens) == (120, 9)


async def test_anthropic_messages_wire_format() -> None:
    seen: dict[str, Any] = {}

    def handler(path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        seen.update(path=path, key=headers["x-api-key"], version=headers["anthropic-version"], body=body)
        return {
            "content": [{"type": "text", "text": "You are bench-user."}],
            "usage": {"input_tokens": 80, "output_tokens": 5},
        }

    with anyio.fail_after(10):
        async with fake_provider(handler) as base:
            turn = await AnthropicModel(base_url=base, api_key="k", model="m").respond(CONVERSATION)
    assert seen["path"] == "/v1/messages"
    assert (seen["key"], seen["version"]) == ("k", "2023-06-01")
    body = seen["body"]
    assert body["system"] == "be brief"
    assert body["tools"][0]["input_schema"] == {"type": "object"}
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": "c1", "name": "github__get_me", "input": {}}
    assert body["messages"][2]["content"][0]["type"] == "tool_result"
    assert turn.content == "You are bench-user."
    assert turn.tool_calls == ()
    assert turn.reported_input_tokens == 80
