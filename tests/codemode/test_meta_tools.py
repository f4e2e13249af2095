"""The read-only meta-tools over a caller's view, through `CodeMode.call`."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_gateway.codemode import META_TOOL_NAMES, CodeMode
from mcp_gateway.config.models import CodeModeSettings, SandboxSettings
from mcp_gateway.errors import NotFoundError
from mcp_gateway.invocation import CallContext

from .conftest import load_tools, make_ctx, text_of, tool


@pytest.fixture
def ctx() -> CallContext:
    return make_ctx(load_tools("github.json") + load_tools("googlecalendar.json") + load_tools("filesystem.json"))


async def call(code_mode: CodeMode, name: str, ctx: CallContext, **arguments: Any) -> tuple[str, bool]:
    result = await code_mode.call(name, arguments, ctx, call_id="call-1")
    return text_of(result), result.is_error


def test_meta_tool_definitions(code_mode: CodeMode) -> None:
    tools = {t.name: t for t in code_mode.meta_tools()}
    assert set(tools) == set(META_TOOL_NAMES) == {"listToolFiles", "readToolFile", "getToolDocs", "executeToolCode"}
    assert set(tools["readToolFile"].input_schema["properties"]) == {"fileName", "startLine", "endLine"}
    assert tools["readToolFile"].input_schema["required"] == ["fileName"]
    assert tools["getToolDocs"].input_schema["required"] == ["server", "tool"]
    assert tools["executeToolCode"].input_schema["required"] == ["code"]
    assert "required" not in tools["listToolFiles"].input_schema
    for t in tools.values():
        assert t.description and len(t.description) > 40
        assert all(p["description"] for p in t.input_schema["properties"].values())
    assert "try_call" in (tools["executeToolCode"].description or "")
    assert tools["listToolFiles"].annotations and tools["listToolFiles"].annotations.read_only_hint


async def test_list_tool_files(code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await call(code_mode, "listToolFiles", ctx)
    assert not is_error
    lines = text.splitlines()
    assert lines[0].startswith("# 68 tools in 3 servers. Workflow:")
    assert lines[1:] == [
        "servers/",
        "  filesystem.pyi  (14 tools)",
        "  github.pyi  (41 tools)",
        "  googlecalendar.pyi  (13 tools)",
    ]


async def test_list_with_query_narrows_the_tree(code_mode: CodeMode, ctx: CallContext) -> None:
    text, _ = await call(code_mode, "listToolFiles", ctx, query="calendar events")
    assert text.startswith('# 10 of 68 tools match "calendar events".')
    assert "googlecalendar.pyi  (10 of 13: create_event, create_events, delete_event, get_current_time," in text
    assert "github.pyi" not in text and "filesystem.pyi" not in text
    text, _ = await call(code_mode, "listToolFiles", ctx, query="xyzzy")
    assert text.startswith('# No tool matches "xyzzy". Servers: filesystem, github, googlecalendar.')


async def test_query_falls_back_to_best_partial_match(code_mode: CodeMode, ctx: CallContext) -> None:
    text, _ = await call(code_mode, "listToolFiles", ctx, query="fork xyzzy")
    assert "fork_repository" in text and "github.pyi  (1 of 41" in text


@pytest.mark.parametrize("bindings", [{"googlecalendar": "tool"}])
async def test_per_server_binding_override(code_mode: CodeMode, ctx: CallContext) -> None:
    text, _ = await call(code_mode, "listToolFiles", ctx)
    assert "  github.pyi  (41 tools)" in text
    assert "  googlecalendar/  (13 tools)\n    create_event.pyi\n    create_events.pyi" in text
    text, is_error = await call(code_mode, "readToolFile", ctx, fileName="servers/googlecalendar/list_events.pyi")
    assert not is_error and "def list_events(calendarId: str | list[str]" in text


async def test_read_tool_file(code_mode: CodeMode, ctx: CallContext) -> None:
    full, is_error = await call(code_mode, "readToolFile", ctx, fileName="servers/github.pyi")
    assert not is_error
    lines = full.splitlines()
    total = int(lines[0].removeprefix("# Total lines: "))
    assert len(lines) == total + 1
    part, _ = await call(code_mode, "readToolFile", ctx, fileName="servers/github.pyi", startLine=2, endLine=3)
    assert part.splitlines() == [f"# Total lines: {total}", "# Lines 2-3 of servers/github.pyi", lines[2], lines[3]]


@pytest.mark.parametrize(
    "case",
    [(0, 2, 1, 2), (-5, None, 1, None), (3, 1, 3, 3), (10_000, None, None, None), (None, 10_000, 1, None)],
)
async def test_read_ranges_are_clamped(
    code_mode: CodeMode, ctx: CallContext, case: tuple[int | None, int | None, int | None, int | None]
) -> None:
    """(startLine, endLine) -> the 1-based lines shown; None for first/last means the last line."""
    start, end, first, last = case
    full, _ = await call(code_mode, "readToolFile", ctx, fileName="servers/github.pyi")
    body = full.splitlines()[1:]
    total = len(body)
    first = total if first is None else first
    last = total if last is None else last
    args: dict[str, Any] = {"fileName": "servers/github.pyi"}
    if start is not None:
        args["startLine"] = start
    if end is not None:
        args["endLine"] = end
    text, is_error = await call(code_mode, "readToolFile", ctx, **args)
    assert not is_error
    shown = [line for line in text.splitlines()[1:] if not line.startswith("# Lines ")]
    assert shown == body[first - 1 : last]


@pytest.mark.parametrize(
    "name", ["github", "github.pyi", "servers/github", "./servers/github.pyi", " servers/github.pyi "]
)
async def test_read_accepts_near_names(code_mode: CodeMode, ctx: CallContext, name: str) -> None:
    text, is_error = await call(code_mode, "readToolFile", ctx, fileName=name)
    assert not is_error and "def create_branch(" in text


async def test_read_unknown_file_lists_the_files(code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await call(code_mode, "readToolFile", ctx, fileName="servers/gitlab.pyi")
    assert is_error
    assert text == (
        'No file "servers/gitlab.pyi". Files that exist: servers/filesystem.pyi, servers/github.pyi, '
        "servers/googlecalendar.pyi."
    )


@pytest.mark.parametrize("settings", [CodeModeSettings(sandbox=SandboxSettings(max_output_bytes=4096))])
async def test_read_is_cut_to_the_budget_with_a_pointer(code_mode: CodeMode, ctx: CallContext) -> None:
    text, _ = await call(code_mode, "readToolFile", ctx, fileName="servers/github.pyi")
    assert len(text) < 4096 + 400
    last = text.splitlines()[-1]
    assert (
        last.startswith("# [Size budget reached: lines ")
        and 'readToolFile(fileName="servers/github.pyi", startLine=' in last
    )


async def test_get_tool_docs(code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await call(code_mode, "getToolDocs", ctx, server="googlecalendar", tool="create-events")
    assert not is_error
    assert text.startswith("googlecalendar.create_events(events: list[dict]")
    assert 'upstream tool name "create-events"' in text
    assert "- events (list[dict], required)" in text
    assert "    - events[].summary (str, required)" in text
    assert 'allowed values: "all", "externalOnly", "none"' in text
    assert 'result = googlecalendar.create_events(events=[{"summary": "...", "start": "...", "end": "..."}])' in text
    same, _ = await call(code_mode, "getToolDocs", ctx, server="googlecalendar", tool="create_events")
    assert same == text


async def test_docs_show_output_schema_and_defaults(code_mode: CodeMode, ctx: CallContext) -> None:
    text, _ = await call(code_mode, "getToolDocs", ctx, server="filesystem", tool="read_text_file")
    assert "Returns {content: str}" in text
    text, _ = await call(code_mode, "getToolDocs", ctx, server="github", tool="get_commit")
    assert '- detail (Literal["none", "stats", "full_patch"], optional, default "stats")' in text
    assert "Returns: not declared by the tool." in text


async def test_docs_unknown_server_and_tool(code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await call(code_mode, "getToolDocs", ctx, server="gitlab", tool="x")
    assert is_error and text == 'No server "gitlab". Servers: filesystem, github, googlecalendar.'
    text, is_error = await call(code_mode, "getToolDocs", ctx, server="github", tool="create_isue")
    assert is_error and text.startswith('Server "github" has no tool "create_isue". Closest of its 41 tools: ')


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("readToolFile", {}, 'Invalid arguments for readToolFile: "fileName" is required.'),
        ("readToolFile", {"fileName": 3}, '"fileName" must be a string.'),
        ("readToolFile", {"fileName": "x", "startLine": "two"}, '"startLine" must be a whole number.'),
        ("readToolFile", {"fileName": "x", "startLine": True}, '"startLine" must be a whole number.'),
        ("readToolFile", {"file": "x"}, 'unknown argument "file".'),
        ("getToolDocs", {"server": "github"}, '"tool" is required.'),
        ("executeToolCode", {"code": None}, '"code" is required.'),
        ("listToolFiles", {"query": ["a"]}, '"query" must be a string.'),
    ],
)
async def test_bad_arguments_are_tool_errors(
    code_mode: CodeMode, ctx: CallContext, name: str, arguments: dict[str, Any], message: str
) -> None:
    result = await code_mode.call(name, arguments, ctx, call_id="c")
    assert result.is_error
    assert message in text_of(result)
    assert "It takes: " in text_of(result)


async def test_lenient_numbers(code_mode: CodeMode, ctx: CallContext) -> None:
    text, is_error = await call(code_mode, "readToolFile", ctx, fileName="github", startLine="2", endLine=2.0)
    assert not is_error and text.splitlines()[1] == "# Lines 2-2 of servers/github.pyi"


async def test_arguments_none_means_no_arguments(code_mode: CodeMode, ctx: CallContext) -> None:
    result = await code_mode.call("listToolFiles", None, ctx, call_id="c")
    assert not result.is_error


async def test_not_a_meta_tool(code_mode: CodeMode, ctx: CallContext) -> None:
    with pytest.raises(NotFoundError):
        await code_mode.call("github__create_branch", {}, ctx, call_id="c")


async def test_only_the_callers_view_is_visible(code_mode: CodeMode) -> None:
    github = load_tools("github.json")
    mine = make_ctx([t for t in github if t.name.startswith("list_")])
    text, _ = await call(code_mode, "listToolFiles", mine)
    assert "github.pyi  (7 tools)" in text
    text, _ = await call(code_mode, "readToolFile", mine, fileName="servers/github.pyi")
    assert "def list_commits(" in text and "def create_branch(" not in text
    text, is_error = await call(code_mode, "getToolDocs", mine, server="github", tool="create_branch")
    assert is_error and "create_branch" not in text.split(":", 1)[1].replace('"create_branch"', "")
    text, is_error = await call(code_mode, "readToolFile", mine, fileName="servers/googlecalendar.pyi")
    assert is_error and "googlecalendar" not in text.split("Files that exist")[1]
    empty = make_ctx([])
    text, _ = await call(code_mode, "listToolFiles", empty)
    assert text.startswith("# 0 tools in 0 servers.")


async def test_query_matches_descriptions_and_server_names(code_mode: CodeMode) -> None:
    ctx = make_ctx(
        [tool("weather", "forecast", description="Predicts rain."), tool("maps", "route", description="Directions.")]
    )
    text, _ = await call(code_mode, "listToolFiles", ctx, query="rain")
    assert "weather.pyi  (1 of 1: forecast)" in text and "maps" not in text.split("\n", 1)[1]
    text, _ = await call(code_mode, "listToolFiles", ctx, query="maps")
    assert "maps.pyi  (1 of 1: route)" in text
