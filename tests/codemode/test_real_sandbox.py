"""Code Mode over the real sandbox (`sandbox.create_sandbox`), with a fake invoker upstream.

End-to-end tests over `/mcp` with real MCP servers belong to the server's suite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import mcp_types as types
import pytest

from mcp_gateway.codemode import CodeMode
from mcp_gateway.config.models import CodeModeSettings, SandboxSettings
from mcp_gateway.invocation import CallContext
from sandbox import create_sandbox

from .conftest import FakeInvoker, load_tools, make_ctx, text_of, tool

SETTINGS = CodeModeSettings(enabled=True, sandbox=SandboxSettings(timeout_s=3.0, workers=1))


def issue_text(n: int) -> types.CallToolResult:
    body = {"number": n, "title": f"Bug {n}", "state": "open" if n % 2 else "closed", "body": "x" * 2000}
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(body))])


@pytest.fixture
async def real_code_mode(invoker: FakeInvoker) -> AsyncIterator[CodeMode]:
    async with create_sandbox(SETTINGS.sandbox.engine, workers=1) as pool:
        yield CodeMode(settings=SETTINGS, sandbox=pool, invoker=invoker, binding_for=lambda _: "server")


@pytest.fixture
def ctx(invoker: FakeInvoker) -> CallContext:
    invoker.responses[("github", "issue_read")] = lambda args: issue_text(args["issue_number"])
    invoker.responses[("github", "list_issues")] = types.CallToolResult(
        content=[], structured_content={"issues": [{"number": n} for n in range(1, 7)]}
    )
    notes = tool(
        "my-notes", "add-note", {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    )
    return make_ctx([*load_tools("github.json"), notes])


async def run(code_mode: CodeMode, ctx: CallContext, code: str) -> tuple[str, bool]:
    with anyio.fail_after(20):
        result = await code_mode.call("executeToolCode", {"code": code}, ctx, call_id="exec-9")
    return text_of(result), result.is_error


async def test_workflow_across_two_servers(real_code_mode: CodeMode, ctx: CallContext, invoker: FakeInvoker) -> None:
    listing = text_of(await real_code_mode.call("listToolFiles", {"query": "note"}, ctx, call_id="l"))
    assert "my-notes.pyi  (1 of 1, script global `my_notes`: add_note)" in listing
    stub = text_of(await real_code_mode.call("readToolFile", {"fileName": "servers/my-notes.pyi"}, ctx, call_id="r"))
    assert "def add_note(text: str) -> Any: ..." in stub
    code = "\n".join(
        [
            'found = github.list_issues(owner="o", repo="r")["issues"]',
            "args = [{'method': 'get', 'owner': 'o', 'repo': 'r', 'issue_number': i['number']} for i in found]",
            "calls = [[github.issue_read, a] for a in args]",
            "issues = parallel(calls)",
            'still_open = [i["title"] for i in issues if i["state"] == "open"]',
            'my_notes.add_note(text=", ".join(still_open))',
            'print("open:", len(still_open), "of", len(issues))',
            "still_open",
        ]
    )
    text, is_error = await run(real_code_mode, ctx, code)
    assert not is_error, text
    assert text == 'Output:\nopen: 3 of 6\nResult: ["Bug 1", "Bug 3", "Bug 5"]'
    assert "x" * 100 not in text  # raw tool responses stay in the sandbox
    assert [c.tool.name for c in invoker.calls].count("issue_read") == 6
    assert invoker.calls[-1].arguments == {"text": "Bug 1, Bug 3, Bug 5"}
    assert {c.parent_id for c in invoker.calls} == {"exec-9"} and {c.mode for c in invoker.calls} == {"code"}


async def test_validation_error_names_parameter_tool_and_line(real_code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await run(
        real_code_mode, ctx, 'x = 1\n\ngithub.issue_read(method="get", owner="o", repo="r", issue_number="7")'
    )
    assert is_error
    assert text.startswith("Error (tool, line 3")
    assert "github.issue_read (line 3): parameter \"issue_number\": '7' is not of type 'number'" in text


async def test_try_call_envelope(real_code_mode: CodeMode, ctx: CallContext, invoker: FakeInvoker) -> None:
    invoker.responses[("my-notes", "add-note")] = types.CallToolResult(
        content=[types.TextContent(type="text", text="disk full")], is_error=True
    )
    text, is_error = await run(
        real_code_mode, ctx, 'r = try_call(my_notes.add_note, text="a")\nresult = [r["ok"], r["error"]]'
    )
    assert not is_error, text
    ok, error = json.loads(text.removeprefix("Result: "))
    assert ok is False and "my_notes.add_note (line 1) failed: disk full" in error


async def test_names_outside_the_view_do_not_exist(real_code_mode: CodeMode, invoker: FakeInvoker) -> None:
    ctx = make_ctx([t for t in load_tools("github.json") if t.name == "get_me"])
    for code in [
        "github.create_branch(owner='o', repo='r', branch='b')",
        "linear.linear_create_issue()",
        'getattr(github, "delete_file")()',
    ]:
        text, is_error = await run(real_code_mode, ctx, code)
        assert is_error, code
        assert text.startswith("Error ("), text
    assert invoker.calls == []


async def test_limits_and_errors_come_back_as_tool_errors(real_code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await run(
        real_code_mode, ctx, "for i in range(100000):\n    for j in range(100000):\n        x = i"
    )
    assert is_error and text.startswith("Error (limit") and "Hint: The script hit a limit" in text
    text, is_error = await run(real_code_mode, ctx, "while True:\n    pass")
    assert is_error and text.startswith("Error (syntax, line 1") and "no while loops" in text
    text, is_error = await run(real_code_mode, ctx, 'print("a")\nx = {}["k"]')
    assert is_error and "line 2" in text.splitlines()[0] and text.endswith("Output before the error:\na")


async def test_result_is_trimmed_to_the_budget(invoker: FakeInvoker, ctx: CallContext) -> None:
    small = CodeModeSettings(sandbox=SandboxSettings(max_output_bytes=2000, timeout_s=3.0))
    async with create_sandbox(small.sandbox.engine, workers=1) as pool:
        code_mode = CodeMode(settings=small, sandbox=pool, invoker=invoker, binding_for=lambda _: "server")
        text, is_error = await run(
            code_mode, ctx, 'github.issue_read(method="get", owner="o", repo="r", issue_number=1)'
        )
    assert not is_error
    assert len(text.encode()) < 2300
    assert text.splitlines()[-1].startswith("[... result trimmed: ")
