"""`executeToolCode` end to end over a fake sandbox: bindings, host calls, the answer's framing."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
import pytest

from mcp_gateway.codemode import CodeMode
from mcp_gateway.config.models import CodeModeSettings, SandboxSettings
from mcp_gateway.errors import SandboxError
from sandbox.api import Limits

from .conftest import FakeInvoker, FakeSandbox, ScriptApi, make_ctx, text_of, tool

TOOLS = [
    tool("github", "list_issues", {"type": "object", "properties": {"repo": {"type": "string"}}, "required": ["repo"]}),
    tool("github", "get_issue", {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
    tool("my-notes", "add-note", {"type": "object", "properties": {"text": {"type": "string"}}}),
]


async def execute(code_mode: CodeMode, code: str, **kw: Any) -> types.CallToolResult:
    return await code_mode.call("executeToolCode", {"code": code}, make_ctx(TOOLS), call_id="exec-1", **kw)


async def test_script_gets_bindings_and_limits_of_the_view(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    async def script(api: ScriptApi) -> Any:
        return None

    fake_sandbox.scripts["noop"] = script
    await execute(code_mode, "noop")
    code, bindings, limits = fake_sandbox.runs[0]
    assert code == "noop"
    assert dict(bindings) == {"github": frozenset({"list_issues", "get_issue"}), "my_notes": frozenset({"add_note"})}
    assert limits == Limits(timeout_s=10.0, max_steps=5_000_000, max_tool_calls=100, max_output_bytes=65536)


async def test_output_and_result_come_back_raw_tool_responses_do_not(
    code_mode: CodeMode, fake_sandbox: FakeSandbox, invoker: FakeInvoker
) -> None:
    invoker.responses[("github", "list_issues")] = types.CallToolResult(
        content=[
            types.TextContent(
                type="text", text=json.dumps([{"n": i, "title": f"bug {i}", "body": "x" * 500} for i in range(20)])
            )
        ]
    )

    async def script(api: ScriptApi) -> Any:
        issues = await api.call("github", "list_issues", repo="r", line=1)
        api.print("open:", len(issues))
        return [i["n"] for i in issues if i["n"] % 5 == 0]

    fake_sandbox.scripts["summarise"] = script
    result = await execute(code_mode, "summarise")
    assert not result.is_error
    assert text_of(result) == "Output:\nopen: 20\nResult: [0, 5, 10, 15]"
    assert invoker.calls[0].parent_id == "exec-1" and invoker.calls[0].mode == "code"


async def test_result_only(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    async def script(api: ScriptApi) -> Any:
        return {"a": "ü"}

    fake_sandbox.scripts["r"] = script
    assert text_of(await execute(code_mode, "r")) == 'Result: {"a": "ü"}'

    async def printer(api: ScriptApi) -> Any:
        api.print("hello")

    fake_sandbox.scripts["p"] = printer
    assert text_of(await execute(code_mode, "p")) == "Output:\nhello"


async def test_tool_failure_stops_the_script_with_call_and_line(
    code_mode: CodeMode, fake_sandbox: FakeSandbox, invoker: FakeInvoker
) -> None:
    invoker.responses[("github", "get_issue")] = types.CallToolResult(
        content=[types.TextContent(type="text", text="issue 7 not found")], is_error=True
    )

    async def script(api: ScriptApi) -> Any:
        api.print("before")
        await api.call("github", "get_issue", n=7, line=4)
        api.print("never")

    fake_sandbox.scripts["s"] = script
    result = await execute(code_mode, "s")
    assert result.is_error
    text = text_of(result)
    assert text.startswith(
        "Error (tool, line 4, column 1): github.get_issue (line 4) failed: issue 7 not found\nHint: "
    )
    assert "try_call" in text
    assert text.endswith("Output before the error:\nbefore")


async def test_try_call_and_parallel_collect_carry_the_messages(
    code_mode: CodeMode, fake_sandbox: FakeSandbox, invoker: FakeInvoker
) -> None:
    invoker.responses[("github", "get_issue")] = lambda args: (
        types.CallToolResult(content=[types.TextContent(type="text", text="gone")], is_error=True)
        if args["n"] == 2
        else types.CallToolResult(content=[], structured_content={"n": args["n"]})
    )

    async def script(api: ScriptApi) -> Any:
        single = await api.try_call("github", "get_issue", n=2, line=1)
        bad_args = await api.try_call("github", "get_issue", n="two", line=2)
        many = await api.parallel([("github", "get_issue", {"n": n}) for n in (1, 2, 3)], errors="collect", line=3)
        return {"single": single, "bad_args": bad_args, "many": many}

    fake_sandbox.scripts["s"] = script
    result = await execute(code_mode, "s")
    assert not result.is_error
    value = json.loads(text_of(result).removeprefix("Result: "))
    assert value["single"] == {"ok": False, "value": None, "error": "github.get_issue (line 1) failed: gone"}
    assert value["bad_args"]["error"].startswith("github.get_issue (line 2): parameter \"n\": 'two' is not of type")
    assert [e["ok"] for e in value["many"]] == [True, False, True]
    assert value["many"][0]["value"] == {"n": 1}


async def test_parallel_raise_stops_at_the_first_failure(
    code_mode: CodeMode, fake_sandbox: FakeSandbox, invoker: FakeInvoker
) -> None:
    async def script(api: ScriptApi) -> Any:
        return await api.parallel([("github", "get_issue", {"n": 1}), ("github", "get_issue", {})], line=6)

    fake_sandbox.scripts["s"] = script
    result = await execute(code_mode, "s")
    assert result.is_error
    assert "github.get_issue (line 6): missing required parameter n." in text_of(result)


@pytest.mark.parametrize(
    ("code", "first_line", "hint"),
    [
        (
            "error:syntax:3:7:got 'while', want statement",
            "Error (syntax, line 3, column 7): got 'while', want statement",
            "no while",
        ),
        ("error:syntax:1:1:import is not supported", "Error (syntax, line 1, column 1)", "There are no imports"),
        ("error:runtime:2:5:Variable `gihub` not found", "Error (runtime, line 2, column 5)", "A name is not defined"),
        ("error:syntax:1:1:Variable `admin` not found, did you mean `min`?", "Error (syntax, line 1", "A name is not"),
        ("error:syntax:1:1:undefined: admin", "Error (syntax, line 1", "A name is not"),
        (
            "error:runtime:1:1:github has no method 'nope'; its methods are: a, b",
            "Error (runtime",
            "exactly as readToolFile",
        ),
        ('error:runtime:4:0:Key `"x"` was not found', "Error (runtime, line 4)", "d.get("),
        (
            "error:runtime:4:2:Object of type `dict` has no attribute `foo`",
            "Error (runtime, line 4, column 2)",
            "r.get(",
        ),
        ("error:runtime:1:1:Operation `+` not supported for types `string` and `int`", "Error (runtime", "type"),
        ("error:limit:0:0:timeout after 10 s", "Error (limit): timeout after 10 s", "The script hit a limit"),
        ("error:internal:0:0:worker died", "Error (internal): worker died", "try again once"),
    ],
)
async def test_script_errors_have_position_and_hint(code_mode: CodeMode, code: str, first_line: str, hint: str) -> None:
    result = await execute(code_mode, code)
    assert result.is_error
    lines = text_of(result).splitlines()
    assert lines[0].startswith(first_line)
    assert lines[1].startswith("Hint: ") and hint in lines[1]
    assert lines[-2:] == ["Output before the error:", "partial"]


SMALL = CodeModeSettings(sandbox=SandboxSettings(max_output_bytes=1000))


@pytest.mark.parametrize("settings", [SMALL])
async def test_big_result_is_trimmed_with_a_marker(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    async def script(api: ScriptApi) -> Any:
        return ["x" * 100] * 100

    fake_sandbox.scripts["s"] = script
    text = text_of(await execute(code_mode, "s"))
    assert len(text.encode()) < 1000 + 300
    result_line, marker = text.splitlines()
    assert result_line.startswith('Result: ["xxx')
    assert marker.startswith("[... result trimmed: ") and "of 10400 bytes not shown" in marker


@pytest.mark.parametrize("settings", [SMALL])
async def test_output_and_result_share_the_budget(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    async def script(api: ScriptApi) -> Any:
        api.print("é" * 2000)
        return "small"

    fake_sandbox.scripts["s"] = script
    text = text_of(await execute(code_mode, "s"))
    lines = text.splitlines()
    assert lines[0] == "Output:"
    assert len(lines[1].encode()) <= 1000 - len('"small"')
    assert lines[2].startswith("[... printed output trimmed:")
    assert lines[3] == 'Result: "small"'


async def test_sandbox_output_cap_is_reported(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    from sandbox.api import RunResult, RunStats

    async def run(code: str, **kw: Any) -> RunResult:
        return RunResult(output="lots", result=None, stats=RunStats(output_truncated=True))

    fake_sandbox.run = run  # type: ignore[method-assign]
    text = text_of(await execute(code_mode, "x"))
    assert text == "Output:\nlots\n[... printed output stopped at the sandbox's limit of 65536 bytes.]"


async def test_sandbox_that_cannot_run_raises_sandbox_error(code_mode: CodeMode) -> None:
    with pytest.raises(SandboxError):
        await execute(code_mode, "raise")


async def test_empty_code_is_allowed_but_missing_code_is_not(code_mode: CodeMode, fake_sandbox: FakeSandbox) -> None:
    result = await code_mode.call("executeToolCode", {}, make_ctx(TOOLS), call_id="c")
    assert result.is_error and '"code" is required' in text_of(result)
    assert fake_sandbox.runs == []


async def test_huge_error_messages_are_capped(code_mode: CodeMode) -> None:
    result = await execute(code_mode, "error:runtime:1:1:github has no method 'x'; its methods are: " + "m, " * 20_000)
    assert result.is_error and len(text_of(result)) < 5_000
