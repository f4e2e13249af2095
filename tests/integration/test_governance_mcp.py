"""Governance over the real `/mcp`: per-key views on every path, limits, admin API, groups, reload.

Three keys with overlapping groups granted at key, team and customer level, plus a key with no
groups. Each sees and calls exactly its view; everything else answers exactly like a tool,
prompt or resource that does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
import yaml
from mcp.client.session import IncomingMessage
from mcp.shared.exceptions import MCPError

from tests.core.harness import DOWNSTREAM_MODES, DownstreamMode, RunningGateway, connect, running_gateway

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
ADMIN = "admin-secret"
GOVERNANCE: dict[str, Any] = {
    "admin_key": ADMIN,
    "tool_groups": {
        "math": {"tools": ["demo.add", "demo.count_down"]},
        "words": {"tools": ["demo.echo", "demo.summarize", "demo.welcome_note"]},
        "all_demo": {"tools": ["demo.*"]},
        "limited": {"tools": ["demo.echo"], "rate_limit": {"requests": 2, "period": "1m"}},
    },
    "customers": {"acme": {"tool_groups": ["math"]}},
    "teams": {"backend": {"customer": "acme", "tool_groups": ["words"]}},
    "virtual_keys": {
        "alice": {"key": "alice-key", "team": "backend"},
        "bob": {"key": "bob-key", "tool_groups": ["all_demo"], "blocked_tools": ["demo.fail", "demo.sleep"]},
        "carol": {"key": "carol-key"},
        "erin": {"key": "erin-key", "tool_groups": ["limited"]},
    },
}
EXPECTED_TOOLS = {
    "alice": {"demo__add", "demo__count_down", "demo__echo"},
    "bob": {"demo__add", "demo__count_down", "demo__echo"},
    "carol": set(),
}
ALL_TOOLS = {"demo__add", "demo__echo", "demo__count_down", "demo__fail", "demo__sleep"}
ARGS = {
    "demo__add": {"a": 1, "b": 2},
    "demo__echo": {"text": "x"},
    "demo__count_down": {"start": 1},
    "demo__fail": {},
    "demo__sleep": {"seconds": 0},
}


def _as(gw: RunningGateway, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("mode", DOWNSTREAM_MODES)
async def test_each_key_sees_and_calls_exactly_its_view(mode: DownstreamMode) -> None:
    async with running_gateway({"demo": DEMO}, **GOVERNANCE) as gw:
        for name, expected in EXPECTED_TOOLS.items():
            async with connect(gw, mode, headers=_as(gw, f"{name}-key")) as client:
                with anyio.fail_after(20):
                    listed = {t.name for t in (await client.list_tools()).tools}
                    assert listed == expected, name
                    for tool in sorted(ALL_TOOLS):
                        if tool in expected:
                            assert not (await client.call_tool(tool, ARGS[tool])).is_error
                        else:
                            with pytest.raises(MCPError) as hidden:
                                await client.call_tool(tool, ARGS[tool])
                            with pytest.raises(MCPError) as missing:
                                await client.call_tool("demo__no_such_tool", {})
                            # Indistinguishable from a tool that does not exist.
                            assert hidden.value.code == missing.value.code
                            assert hidden.value.message.replace(tool, "X") == missing.value.message.replace(
                                "demo__no_such_tool", "X"
                            )

                    prompts = {p.name for p in (await client.list_prompts()).prompts}
                    resources = {str(r.uri) for r in (await client.list_resources()).resources}
                    if name == "carol":
                        assert prompts == set() and resources == set()
                        with pytest.raises(MCPError, match="Unknown prompt: demo__summarize"):
                            await client.get_prompt("demo__summarize", {"topic": "t"})
                        with pytest.raises(MCPError, match="Unknown resource: notes://welcome"):
                            await client.read_resource("notes://welcome")
                    else:
                        assert prompts == {"demo__summarize"} and resources == {"notes://welcome"}
                        await client.get_prompt("demo__summarize", {"topic": "t"})
                        await client.read_resource("notes://welcome")


async def test_tool_rate_limit_answers_with_the_limit_and_reset() -> None:
    async with running_gateway({"demo": DEMO}, **GOVERNANCE) as gw, connect(gw, headers=_as(gw, "erin-key")) as client:
        with anyio.fail_after(10):
            for _ in range(2):
                assert not (await client.call_tool("demo__echo", {"text": "x"})).is_error
            refused = await client.call_tool("demo__echo", {"text": "x"})
            assert refused.is_error
            assert isinstance(refused.content[0], types.TextContent)
            error = json.loads(refused.content[0].text)["error"]
            assert error["status"] == 429
            assert error["limit"] == 2
            assert "resets_at" in error


async def test_unknown_disabled_and_admin_credentials() -> None:
    async with running_gateway({"demo": DEMO}, **GOVERNANCE) as gw, httpx2.AsyncClient(base_url=gw.url) as http:
        with anyio.fail_after(10):
            unknown = await http.post("/mcp", json={}, headers=_as(gw, "who-is-this"))
            assert unknown.status_code == 401
            assert unknown.json()["error"]["message"] == "invalid API key"

            as_virtual_key = await http.get("/api/servers", headers=_as(gw, "alice-key"))
            assert as_virtual_key.status_code == 403
            assert "admin" in as_virtual_key.json()["error"]["message"]
            as_admin = await http.get("/api/servers", headers=_as(gw, ADMIN))
            assert as_admin.status_code == 200
            assert as_admin.json()["servers"][0]["name"] == "demo"
            # The admin key is not a virtual key: it sees no tools.
            admin_mcp = await http.post("/mcp", json={}, headers=_as(gw, ADMIN))
            assert admin_mcp.status_code == 401


async def test_group_endpoint_serves_one_group_within_the_view() -> None:
    async with running_gateway({"demo": DEMO}, **GOVERNANCE) as gw:
        async with connect(gw, headers=_as(gw, "bob-key"), path="/mcp/math") as client:
            with anyio.fail_after(10):
                assert {t.name for t in (await client.list_tools()).tools} == {"demo__add", "demo__count_down"}
                with pytest.raises(MCPError, match="Unknown tool"):
                    await client.call_tool("demo__echo", {"text": "x"})
        for key, group in (("carol-key", "math"), ("bob-key", "no-such-group")):
            async with connect(gw, headers=_as(gw, key), path=f"/mcp/{group}") as client:
                with anyio.fail_after(10):
                    assert (await client.list_tools()).tools == []


async def test_reload_under_a_live_session(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    doc: dict[str, Any] = {"gateway": {"api_key": None}, "servers": {"demo": DEMO}, **GOVERNANCE}
    path.write_text(yaml.safe_dump(doc))
    heard = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()

    async with (
        running_gateway({"demo": DEMO}, config_path=path, **GOVERNANCE) as gw,
        connect(gw, "http-legacy", headers=_as(gw, "carol-key"), message_handler=on_message) as carol,
        httpx2.AsyncClient(base_url=gw.url, headers=_as(gw, ADMIN)) as admin,
    ):
        with anyio.fail_after(20):
            assert (await carol.list_tools()).tools == []

            # An invalid file is refused with its key path; the old config keeps serving.
            broken = {**doc, "virtual_keys": {**doc["virtual_keys"], "carol": {"key": "carol-key", "team": "nope"}}}
            path.write_text(yaml.safe_dump(broken))
            refused = await admin.post("/api/config/reload")
            assert refused.status_code == 422
            assert refused.json()["error"]["problems"][0]["path"] == "virtual_keys.carol.team"
            assert (await carol.list_tools()).tools == []

            # A valid change reaches the live session: notification, then the new view.
            granted = {
                **doc,
                "virtual_keys": {**doc["virtual_keys"], "carol": {"key": "carol-key", "tool_groups": ["math"]}},
            }
            path.write_text(yaml.safe_dump(granted))
            assert (await admin.post("/api/config/reload")).status_code == 200
            await heard.wait()
            assert {t.name for t in (await carol.list_tools()).tools} == {"demo__add", "demo__count_down"}
            assert not (await carol.call_tool("demo__add", {"a": 2, "b": 2})).is_error


def _text(result: types.CallToolResult) -> str:
    assert isinstance(result.content[0], types.TextContent)
    return result.content[0].text


CODE_DEMO = {**DEMO, "code_mode": True}
FUNCTIONS = {"add", "count_down", "echo", "fail", "sleep"}


@pytest.mark.parametrize("mode", ["http-auto", "sse"])
async def test_code_mode_paths_show_and_run_exactly_the_view(mode: DownstreamMode) -> None:
    async with running_gateway({"demo": CODE_DEMO}, **GOVERNANCE) as gw:
        for name, expected in EXPECTED_TOOLS.items():
            visible = {t.removeprefix("demo__") for t in expected}
            async with connect(gw, mode, headers=_as(gw, f"{name}-key")) as client:
                with anyio.fail_after(30):
                    listed = {t.name for t in (await client.list_tools()).tools}
                    if not visible:
                        # Nothing in Code Mode for this key: no meta-tools either.
                        assert listed == set()
                        with pytest.raises(MCPError, match="Unknown tool: executeToolCode"):
                            await client.call_tool("executeToolCode", {"code": "demo.add(a=1, b=2)"})
                        continue
                    assert listed == {"listToolFiles", "readToolFile", "getToolDocs", "executeToolCode"}

                    stub = _text(await client.call_tool("readToolFile", {"fileName": "servers/demo.pyi"}))
                    for function in FUNCTIONS:
                        assert (f"def {function}(" in stub) == (function in visible), (name, function)
                    listing = _text(await client.call_tool("listToolFiles", {}))
                    assert "demo.pyi  (3 tools)" in listing

                    for function in sorted(FUNCTIONS):
                        docs = await client.call_tool("getToolDocs", {"server": "demo", "tool": function})
                        nonexistent = await client.call_tool("getToolDocs", {"server": "demo", "tool": "nope"})
                        run = await client.call_tool(
                            "executeToolCode", {"code": f"result = demo.{function}(**{ARGS['demo__' + function]})"}
                        )
                        absent = await client.call_tool("executeToolCode", {"code": "result = demo.nope()"})
                        if function in visible:
                            assert not docs.is_error and not run.is_error, (name, function, _text(run))
                        else:
                            assert docs.is_error and run.is_error
                            # Same shape of answer as for a function that does not exist at all.
                            assert _text(docs).replace(function, "X") == _text(nonexistent).replace("nope", "X")
                            assert _text(run).replace(function, "X") == _text(absent).replace("nope", "X")


async def test_scripts_cannot_reach_tools_outside_the_view_by_any_spelling() -> None:
    # Each spelling of a hidden tool must fail exactly like the same spelling of a missing one.
    spellings = [
        'result = demo.{name}(message="x")',
        'f = getattr(demo, "{name}")\nresult = f(message="x")',
        'result = try_call(getattr(demo, "{name}"), message="x")',
        'result = parallel([[getattr(demo, "{name}"), {{"seconds": 0}}]])',
        'result = demo.__getattr__("{name}")',
    ]
    servers = {"demo": CODE_DEMO, "time": {"transport": "stdio", "command": "mcp-server-time", "code_mode": True}}
    async with running_gateway(servers, **GOVERNANCE) as gw, connect(gw, headers=_as(gw, "bob-key")) as client:
        with anyio.fail_after(30):

            async def run(code: str) -> str:
                result = await client.call_tool("executeToolCode", {"code": code})
                assert result.is_error, code
                return _text(result)

            for spelling in spellings:
                for hidden in ("fail", "sleep"):
                    hidden_text = await run(spelling.format(name=hidden))
                    missing_text = await run(spelling.format(name="nope"))
                    assert hidden_text.replace(hidden, "X") == missing_text.replace("nope", "X")
            # A server with no tool in the view is not even a global (the engine's "did you mean"
            # suggestion comes from builtins such as `type`, not from hidden servers).
            assert "Variable `time` not found" in await run('result = time.get_current_time(timezone="UTC")')
            listed = await client.call_tool("executeToolCode", {"code": "result = dir(demo)"})
            assert _text(listed).endswith('["add", "count_down", "echo"]')
