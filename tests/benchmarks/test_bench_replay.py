"""The replay server over a real MCP client: exact schemas, fixtures, validation, journal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from benchmarks.tokens.dataset import load_server
from benchmarks.tokens.replay_data import ReplayBook, example_from_schema
from benchmarks.tokens.replay_server import build_server

ROOT = Path(__file__).resolve().parents[2]


async def test_in_process_serves_captured_schemas_and_fixtures(tmp_path: Path) -> None:
    data = load_server("github")
    journal = tmp_path / "calls.jsonl"
    with anyio.fail_after(30):
        async with Client(build_server(data, journal)) as client:
            listed = (await client.list_tools()).tools
            assert [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed] == list(data.tools)
            found = await client.call_tool("search_repositories", {"query": "mcp servers", "perPage": 2})
            assert not found.is_error
            value = json.loads(found.content[0].text)
            assert [i["full_name"] for i in value["items"]] == [
                "modelcontextprotocol/servers",
                "punkpeye/awesome-mcp-servers",
            ]
            bad = await client.call_tool("search_repositories", {"perPage": 2})
            assert bad.is_error
            assert "'query' is a required property" in bad.content[0].text
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(e["tool"], e["is_error"]) for e in entries] == [
        ("search_repositories", False),
        ("search_repositories", True),
    ]


async def test_created_objects_read_back() -> None:
    with anyio.fail_after(30):
        async with Client(build_server(load_server("notion"))) as client:
            page = await client.call_tool(
                "API-post-page",
                {"parent": {"type": "workspace"}, "properties": {"title": {"title": []}}, "children": ["first"]},
            )
            page_id = json.loads(page.content[0].text)["id"]
            await client.call_tool(
                "API-update-page-markdown",
                {"page_id": page_id, "type": "replace_content", "replace_content": {"new_str": "second"}},
            )
            read = await client.call_tool("API-retrieve-page-markdown", {"page_id": page_id})
            assert json.loads(read.content[0].text)["markdown"] == {"new_str": "second"}


async def test_over_stdio_as_the_gateway_runs_it(tmp_path: Path) -> None:
    journal = tmp_path / "calls.jsonl"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "benchmarks.tokens.replay_server", "--server", "firecrawl-3.15.0", "--journal", str(journal)],
        cwd=str(ROOT),
        env={"PYTHONPATH": str(ROOT)},
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            assert len((await client.list_tools()).tools) == 15
            page = await client.call_tool("firecrawl_scrape", {"url": "https://httpbin.org/html"})
            assert "Moby-Dick" in page.content[0].text
    assert json.loads(journal.read_text())["server"] == "firecrawl"


def test_output_schema_shapes_results_without_fixture() -> None:
    tool = {
        "name": "t",
        "inputSchema": {"type": "object"},
        "outputSchema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}, "items": {"type": "array", "items": {"type": "string"}}},
        },
    }
    assert ReplayBook({}).answer(tool, {}).value == {"ok": True, "items": ["example"]}
    assert example_from_schema({"enum": ["a", "b"]}) == "a"
    plain = {"name": "u", "inputSchema": {"type": "object"}}
    assert ReplayBook({}).answer(plain, {"x": 1}).value == {"ok": True, "tool": "u", "arguments": {"x": 1}}


def test_limit_arguments_cut_lists() -> None:
    book = ReplayBook({"t": [{"result": {"items": [1, 2, 3, 4]}}]})
    tool = {"name": "t", "inputSchema": {"type": "object", "properties": {"limit": {"type": "integer"}}}}
    assert book.answer(tool, {"limit": 2}).value == {"items": [1, 2]}
