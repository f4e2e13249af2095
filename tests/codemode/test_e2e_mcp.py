"""Code Mode end to end over `/mcp`: the official SDK client, the real gateway, real npm servers.

server-everything (stdio), server-filesystem and server-memory are all in Code Mode: the client
sees only the four meta-tools, reads stubs and docs, then runs one script that calls tools on
several servers, filters in code and prints a summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import mcp_types as types
import pytest

from tests.core.harness import connect, running_gateway

pytestmark = pytest.mark.npm


def text(result: types.CallToolResult) -> str:
    assert isinstance(result.content[0], types.TextContent)
    return result.content[0].text


async def test_list_read_docs_then_a_script_over_three_servers(npm_bin: Callable[[str], Path], tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir()
    for name in ("alpha.txt", "beta.txt", "notes.md"):
        (root / name).write_text(f"contents of {name}\n")
    servers = {
        "everything": {"transport": "stdio", "command": str(npm_bin("mcp-server-everything")), "args": ["stdio"]},
        "files": {"transport": "stdio", "command": str(npm_bin("mcp-server-filesystem")), "args": [str(root)]},
        "memory": {
            "transport": "stdio",
            "command": str(npm_bin("mcp-server-memory")),
            "env": {"MEMORY_FILE_PATH": str(tmp_path / "memory.jsonl")},
        },
    }
    config = {"code_mode": {"enabled": True, "binding": "server"}}
    async with running_gateway(servers, **config) as gw, connect(gw) as client:
        with anyio.fail_after(60):
            listed = {t.name for t in (await client.list_tools()).tools}
            assert listed == {"listToolFiles", "readToolFile", "getToolDocs", "executeToolCode"}

            tree = text(await client.call_tool("listToolFiles", {}))
            for file in ("everything.pyi", "files.pyi", "memory.pyi"):
                assert f"  {file}  (" in tree
            narrowed = text(await client.call_tool("listToolFiles", {"query": "directory"}))
            assert "files.pyi" in narrowed and "memory.pyi" not in narrowed

            stub = await client.call_tool("readToolFile", {"fileName": "servers/files.pyi"})
            assert not stub.is_error
            assert "def list_directory(path: str) -> dict: ..." in text(stub)
            assert text(stub).startswith("# Total lines: ")

            docs = text(await client.call_tool("getToolDocs", {"server": "memory", "tool": "create_entities"}))
            assert "- entities (list[dict], required)" in docs
            assert "entities[].name (str, required)" in docs

            script = "\n".join(
                [
                    f'listing = files.list_directory(path="{root}")["content"]',
                    'texts = [line.split(" ", 1)[1] for line in listing.split("\\n") if line.endswith(".txt")]',
                    'entities = [{"name": n, "entityType": "file", "observations": []} for n in texts]',
                    "memory.create_entities(entities=entities)",
                    "graph = memory.read_graph()",
                    'echoed = everything.echo(message="found " + str(len(texts)))',
                    'print("text files:", ", ".join(sorted(texts)))',
                    'result = {"entities": sorted([e["name"] for e in graph["entities"]]), "echo": echoed}',
                ]
            )
            run = await client.call_tool("executeToolCode", {"code": script})
            assert not run.is_error, text(run)
            output, result = text(run).split("\nResult: ")
            assert output == "Output:\ntext files: alpha.txt, beta.txt"
            value = json.loads(result)
            assert value["entities"] == ["alpha.txt", "beta.txt"]
            assert "found 2" in json.dumps(value["echo"])

            failing = await client.call_tool(
                "executeToolCode", {"code": 'x = 1\nfiles.read_text_file(path="/etc/passwd")'}
            )
            assert failing.is_error
            assert "files.read_text_file (line 2) failed" in text(failing)
