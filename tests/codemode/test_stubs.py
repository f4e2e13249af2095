"""Stub files rendered from real tool schemas: valid Python, faithful signatures, stable output."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import Binding, CodeView, ViewBuilder

from .conftest import load_tools, tool

REAL = ["filesystem.json", "firecrawl.json", "github.json", "googlecalendar.json", "linear.json", "notion.json"]


def all_real_tools() -> list[CatalogTool]:
    return [t for file in REAL for t in load_tools(file)]


def build(tools: list[CatalogTool], binding: Binding = "server") -> CodeView:
    return ViewBuilder(Texts()).view({t.exposed_name: t for t in tools}, lambda _: binding)


def defs(text: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("binding", ["server", "tool"])
def test_every_real_stub_parses_and_lists_every_tool(binding: Binding) -> None:
    tools = all_real_tools()
    view = build(tools, binding)
    found: dict[tuple[str, str], ast.FunctionDef] = {}
    for path, memo in view.files.items():
        for name, node in defs(memo.text).items():
            server = path.split("/")[1].removesuffix(".pyi")
            found[(server, name)] = node
    assert len(found) == len(tools)
    for server in view.servers:
        for bound in server.tools:
            node = found[(server.name, bound.ident)]
            args = node.args.args
            # required parameters first, in schema order, under their stub names
            assert [a.arg for a in args] == [p.ident for p in bound.spec.params]
            required = [p for p in bound.spec.params if p.required]
            assert len(node.args.defaults) == len(args) - len(required)
            assert all(a.annotation is not None for a in args)


def test_file_layout_per_binding() -> None:
    tools = load_tools("googlecalendar.json") + load_tools("linear.json")
    assert sorted(build(tools, "server").files) == ["servers/googlecalendar.pyi", "servers/linear.pyi"]
    tool_files = sorted(build(tools, "tool").files)
    assert "servers/googlecalendar/list_events.pyi" in tool_files
    assert len(tool_files) == len(tools)


def test_names_that_are_not_identifiers() -> None:
    view = build(load_tools("googlecalendar.json") + load_tools("notion.json") + load_tools("linear.json"))
    calendar = view.by_server["googlecalendar"]
    assert calendar.by_name["list-events"].ident == "list_events"
    assert view.by_server["notion"].by_name["API-post-search"].ident == "API_post_search"


def test_parameter_names_that_are_not_identifiers() -> None:
    schema = {
        "type": "object",
        "properties": {
            "in": {"type": "string"},
            "page-size": {"type": "integer"},
            "page_size": {"type": "integer"},
            "async": {"type": "boolean"},
        },
        "required": ["in"],
    }
    spec = build([tool("s", "t", schema)]).by_server["s"].by_name["t"].spec
    assert spec.signature == "in_: str, page_size_2: int = None, page_size: int = None, async_: bool = None"
    assert {p.ident: p.name for p in spec.params} == {
        "in_": "in",
        "page_size_2": "page-size",
        "page_size": "page_size",
        "async_": "async",
    }


def test_stub_line_shape() -> None:
    view = build(load_tools("github.json"))
    text = view.files["servers/github.pyi"].text
    line = next(line for line in text.splitlines() if line.startswith("def create_branch("))
    assert line == (
        "def create_branch(branch: str, owner: str, repo: str, from_branch: str = None) -> Any: ...  "
        "# Create a new branch in a GitHub repository"
    )
    list_commits = next(line for line in text.splitlines() if line.startswith("def list_commits("))
    assert 'fields: list[Literal["sha", "html_url", "commit", "author", "committer"]] = None' in list_commits
    header = text.splitlines()[0]
    assert "global `github`" in header


def test_header_names_the_global_of_a_server_with_a_dash() -> None:
    tools = [tool("my-server", "ping", description="Ping it.")]
    view = build(tools)
    text = view.files["servers/my-server.pyi"].text
    assert "global `my_server`" in text
    assert view.bindings == {"my_server": frozenset({"ping"})}
    assert "my_server.<function>" in text


def test_output_schema_documents_the_return_shape() -> None:
    view = build(load_tools("filesystem.json"))
    text = view.files["servers/filesystem.pyi"].text
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("def read_text_file("))
    assert lines[i].split("->")[1].startswith(" dict:")
    assert lines[i + 1].strip() == "#     returns {content: str}"


def test_fastmcp_wrapped_result_is_unwrapped_in_the_stub() -> None:
    out = {
        "type": "object",
        "properties": {"result": {"type": "array", "items": {"type": "string"}}},
        "x-fastmcp-wrap-result": True,
    }
    view = build([tool("docs", "names", output_schema=out)])
    bound = view.by_server["docs"].by_name["names"]
    assert bound.spec.returns == "list[str]" and bound.spec.unwrap_result


def test_long_and_missing_descriptions() -> None:
    view = build(load_tools("firecrawl.json") + load_tools("googlecalendar.json"))
    for server in view.servers:
        for bound in server.tools:
            assert len(bound.spec.summary) <= 120
    calendar = view.by_server["googlecalendar"].by_name["list-events"]
    assert all(p.description == "" for p in calendar.spec.params)  # none in the real schema
    nameless = build([tool("s", "t")])
    assert "# (no description)" in nameless.files["servers/s.pyi"].text


def test_hostile_text_cannot_break_the_stub() -> None:
    nasty = 'Ends the comment?\n"""\nimport os  # \x00 \u2028 next line'
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "a b": {"type": "string", "enum": ['x"y', "z\nw"], "description": nasty},
            "a-b": {"type": "integer", "default": 'quote " \\ '},
            "class": {"type": "object", "properties": {"\n": {"type": "string"}}},
        },
        "required": ["class"],
    }
    out = {"type": "object", "properties": {"\nimport os": {"type": "string"}}}
    tools = [tool("srv", "weird\nname", schema, description=nasty, title=nasty, output_schema=out)]
    for binding in ("server", "tool"):
        view = build(tools, binding)  # type: ignore[arg-type]
        for memo in view.files.values():
            module = ast.parse(memo.text)
            assert all(isinstance(node, ast.FunctionDef | ast.ImportFrom) for node in module.body)
            assert "\x00" not in memo.text


def test_rendering_is_deterministic() -> None:
    first = build(all_real_tools())
    second = build(list(reversed(all_real_tools())))
    assert {p: m.text for p, m in first.files.items()} == {p: m.text for p, m in second.files.items()}
