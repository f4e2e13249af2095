"""A replay MCP server: serves one captured tool set with its exact schemas, answers from fixtures.

Run over stdio:

    python -m benchmarks.tokens.replay_server --server github [--journal calls.jsonl]

or import it as an in-process server object: `benchmarks.tokens.replay_server:github` (any
capture label with '-' and '.' as '_', e.g. `firecrawl_3_15_0`); each attribute access builds a
fresh server, and `BENCH_REPLAY_JOURNAL` names the journal file.

Arguments are validated against the captured input schema (a real server rejects bad input too).
Every call is appended to the journal (JSON lines: server, tool, arguments, is_error), which the
grader reads to see calls made inside Code Mode scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from benchmarks.tokens.dataset import DATA_DIR, ServerData, load_server
from benchmarks.tokens.replay_data import ReplayBook, Reply

__all__ = ["JOURNAL_ENV", "build_server", "main", "to_call_result"]

JOURNAL_ENV = "BENCH_REPLAY_JOURNAL"


def _validate(schema: dict[str, Any], args: dict[str, Any]) -> str | None:
    try:
        cls = jsonschema.validators.validator_for(schema)
        errors = sorted(cls(schema).iter_errors(args), key=lambda e: list(e.path))
    except (jsonschema.SchemaError, jsonschema.exceptions.UnknownType):
        return None  # a captured schema jsonschema cannot read; the real server would decide
    if not errors:
        return None
    first = errors[0]
    where = ".".join(str(p) for p in first.path) or "arguments"
    return f"Invalid arguments: {where}: {first.message}"


def to_call_result(tool: dict[str, Any], reply: Reply) -> types.CallToolResult:
    """Wrap a replayed value as MCP returns it: text, plus structured content where declared."""
    text = reply.value if isinstance(reply.value, str) else json.dumps(reply.value, indent=2, ensure_ascii=False)
    structured = None
    if tool.get("outputSchema") and not reply.is_error:
        structured = reply.value if isinstance(reply.value, dict) else {"result": reply.value}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=structured,
        is_error=reply.is_error,
    )


def _journal(path: Path | None, server: str, tool: str, args: dict[str, Any], is_error: bool) -> None:
    if path is None:
        return
    line = json.dumps(
        {"ts": time.time(), "server": server, "tool": tool, "arguments": args, "is_error": is_error},
        ensure_ascii=False,
        default=str,
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def build_server(data: ServerData, journal: Path | None = None) -> Server[Any]:
    """A low-level MCP server replaying `data`'s tools with their captured schemas."""
    tools = {t["name"]: t for t in data.tools}
    listed = [types.Tool.model_validate(t) for t in data.tools]
    book = ReplayBook.load(DATA_DIR / "replay" / f"{data.name}.yaml")

    async def list_tools(_ctx: Any, _params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        args = dict(params.arguments or {})
        tool = tools.get(params.name)
        if tool is None:
            reply = Reply(f"Unknown tool: {params.name}", is_error=True)
        elif problem := _validate(tool.get("inputSchema") or {}, args):
            reply = Reply(problem, is_error=True)
        else:
            reply = book.answer(tool, args)
        _journal(journal, data.name, params.name, args, reply.is_error)
        return to_call_result(tool or {}, reply)

    return Server(
        f"replay-{data.name}",
        version="1.0.0",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _label(attr: str) -> str:
    for path in (DATA_DIR / "servers").glob("*.json"):
        if path.stem.replace("-", "_").replace(".", "_") == attr:
            return path.stem
    raise AttributeError(f"no captured server named {attr!r}")


def __getattr__(name: str) -> Server[Any]:
    """`replay_server:<label>` for the gateway's in-process transport (a new server each time)."""
    if name.startswith("__"):
        raise AttributeError(name)
    journal = os.environ.get(JOURNAL_ENV)
    return build_server(load_server(_label(name)), Path(journal) if journal else None)


async def _serve(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main(argv: list[str] | None = None) -> None:
    """Serve one captured server over stdio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="capture label, e.g. github or firecrawl-3.15.0")
    parser.add_argument("--journal", type=Path, default=None, help="append every call to this JSONL file")
    ns = parser.parse_args(argv)
    journal = ns.journal or (Path(os.environ[JOURNAL_ENV]) if os.environ.get(JOURNAL_ENV) else None)
    anyio.run(_serve, build_server(load_server(ns.server), journal))


if __name__ == "__main__":
    main()
