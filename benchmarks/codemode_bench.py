"""Code Mode benchmark: meta-tools over a 5,000-tool catalog, full re-render, executeToolCode.

    .venv/bin/python benchmarks/codemode_bench.py [--tools 5000] [--data DIR] [--engine pyo3|go] [--freeze-gc]

The catalog repeats real tool definitions (`tests/codemode/data/*.json` by default, or every
`*.json` in `--data`, e.g. the project's bench-data) under numbered server names until it holds
`--tools` tools. Prints, in one run:

- full re-render: fresh CatalogTool objects (as after a catalog refresh), then the view plus every
  file rendered, per binding; and the lazy path a request actually pays (view and listing only);
- `listToolFiles` (with and without a query) and `readToolFile`, p50/p99, through `CodeMode.call`;
- with the real sandbox (`sandbox.create_sandbox`): `executeToolCode` with no tool calls p50/p99,
  the added latency per nested tool call against an invoker that returns at once, and 10
  concurrent calls (`parallel`) to a tool that sleeps 100 ms.

`--freeze-gc` calls `gc.freeze()` once the catalog is built, as a gateway can after start-up: the
catalog's objects then leave the collector's full passes, which otherwise show up in p99.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcp_gateway.catalog.model import CatalogTool  # noqa: E402
from mcp_gateway.codemode import CodeMode  # noqa: E402
from mcp_gateway.codemode.texts import Texts  # noqa: E402
from mcp_gateway.codemode.view import Binding, ViewBuilder  # noqa: E402
from mcp_gateway.config.models import CodeModeSettings  # noqa: E402
from mcp_gateway.governance.identity import Identity  # noqa: E402
from mcp_gateway.invocation import CallContext, CallMode, ProgressFn  # noqa: E402
from sandbox import create_sandbox  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "codemode" / "data"


def catalog(data: Path, size: int) -> list[CatalogTool]:
    """`size` tools: the captured definitions, repeated under servers `<name>-1`, `<name>-2`, ..."""
    captured = [(p.stem.replace(".", "-"), json.loads(p.read_text())["tools"]) for p in sorted(data.glob("*.json"))]
    tools: list[CatalogTool] = []
    copy = 0
    while len(tools) < size:
        copy += 1
        for name, defs in captured:
            server = f"{name}-{copy}"
            for t in defs:
                if len(tools) == size:
                    return tools
                tools.append(
                    CatalogTool(
                        server=server,
                        name=t["name"],
                        exposed_name=f"{server}__{t['name']}",
                        description=t.get("description") or "",
                        input_schema=t.get("inputSchema") or {"type": "object"},
                        output_schema=t.get("outputSchema"),
                        title=t.get("title"),
                    )
                )
    return tools


def refreshed(tools: list[CatalogTool]) -> dict[str, CatalogTool]:
    """New objects with the same content: what the catalog builds on a refresh."""
    return {t.exposed_name: dataclasses.replace(t) for t in tools}


def pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):7.3f} ms   p99 {p99:7.3f} ms"


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def atimed(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def cpu_calibration() -> float:
    """Milliseconds for a fixed pure-Python loop, to compare machines."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - start) * 1000


def bench_render(tools: list[CatalogTool], texts: Texts, runs: int) -> None:
    bindings: tuple[Binding, ...] = ("server", "tool")
    for binding in bindings:
        full, full_cpu, lazy, files = render_times(tools, texts, binding, runs)
        print(
            f"  binding {binding:6}: {files:5} files; full re-render min {min(full):6.1f} ms "
            f"(CPU {min(full_cpu):6.1f} ms), median {statistics.median(full):6.1f} ms; "
            f"view + listing only {statistics.median(lazy):5.1f} ms"
        )


def render_times(
    tools: list[CatalogTool], texts: Texts, binding: Binding, runs: int
) -> tuple[list[float], list[float], list[float], int]:
    """Per run: wall and CPU ms for the view, listing and every file; ms for view and listing."""
    full, full_cpu, lazy, files = [], [], [], 0
    for _ in range(runs):
        mapping = refreshed(tools)
        builder = ViewBuilder(texts)
        start, start_cpu = time.perf_counter(), time.process_time()
        view = builder.view(mapping, lambda _s: binding)
        _ = view.listing.text
        lazy.append((time.perf_counter() - start) * 1000)
        for memo in view.files.values():
            _ = memo.text
        full.append((time.perf_counter() - start) * 1000)
        full_cpu.append((time.process_time() - start_cpu) * 1000)
        files = len(view.files)
    return full, full_cpu, lazy, files


class InstantInvoker:
    """Answers every call at once; `slow` tools sleep 100 ms first."""

    def __init__(self) -> None:
        self.result = types.CallToolResult(content=[types.TextContent(type="text", text='{"ok": true}')])

    async def call_tool(
        self,
        ctx: CallContext,
        tool: CatalogTool,
        arguments: dict[str, Any],
        *,
        mode: CallMode = "direct",
        parent_id: str | None = None,
        progress: ProgressFn | None = None,
    ) -> types.CallToolResult:
        if tool.name == "slow":
            await anyio.sleep(0.1)
        return self.result


async def bench_meta(tools: list[CatalogTool], runs: int) -> None:
    ctx = CallContext(identity=Identity(key_name="bench"), tools={t.exposed_name: t for t in tools})
    bindings: tuple[Binding, ...] = ("server", "tool")
    for binding in bindings:
        await bench_binding(binding, tools, ctx, runs)


async def bench_binding(binding: Binding, tools: list[CatalogTool], ctx: CallContext, runs: int) -> None:
    code_mode = CodeMode(
        settings=CodeModeSettings(enabled=True),
        sandbox=_NoSandbox(),
        invoker=InstantInvoker(),
        binding_for=lambda _s: binding,
    )
    view = code_mode.view(ctx)
    files = sorted(view.files)
    picks = iter([files[(i * 7919) % len(files)] for i in range(runs)] * 2)
    for path in files:  # warm: every file rendered once, as its first reader would
        _ = view.files[path].text
    await code_mode.call("listToolFiles", {}, ctx, call_id="w")
    await code_mode.call("listToolFiles", {"query": "warm the index"}, ctx, call_id="w")
    queries = iter(f"{q} {i}" for i in range(runs) for q in ["create issue", "list events", "search", "page markdown"])
    docs = iter([(t.server, t.name) for t in tools[:: max(1, len(tools) // runs)]] * 2)

    async def listing() -> object:
        return await code_mode.call("listToolFiles", {}, ctx, call_id="b")

    async def query() -> object:  # a new text each time: the query cache misses
        return await code_mode.call("listToolFiles", {"query": next(queries)}, ctx, call_id="b")

    async def read() -> object:
        return await code_mode.call("readToolFile", {"fileName": next(picks)}, ctx, call_id="b")

    async def doc() -> object:
        server, name = next(docs)
        return await code_mode.call("getToolDocs", {"server": server, "tool": name}, ctx, call_id="b")

    print(f"  binding {binding}:")
    print(f"    listToolFiles              {pct(await atimed(listing, runs))}")
    print(f"    listToolFiles(query), miss {pct(await atimed(query, runs))}")
    print(f"    readToolFile               {pct(await atimed(read, runs))}")
    print(f"    getToolDocs                {pct(await atimed(doc, runs))}")


class _NoSandbox:
    async def run(self, code: str, **kw: Any) -> Any:
        raise RuntimeError("no sandbox in this part of the benchmark")

    async def aclose(self) -> None:
        return None


async def bench_execute(engine: str, runs: int) -> None:
    settings = CodeModeSettings.model_validate({"enabled": True, "sandbox": {"engine": engine, "workers": 2}})
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    bench_tools = [CatalogTool("bench", name, f"bench__{name}", input_schema=schema) for name in ("fast", "slow")]
    ctx = CallContext(identity=Identity(key_name="bench"), tools={t.exposed_name: t for t in bench_tools})
    async with create_sandbox(engine, workers=2) as pool:
        code_mode = CodeMode(settings=settings, sandbox=pool, invoker=InstantInvoker(), binding_for=lambda _s: "server")

        async def execute(code: str) -> types.CallToolResult:
            result = await code_mode.call("executeToolCode", {"code": code}, ctx, call_id="b")
            if result.is_error:
                raise RuntimeError(result.content)
            return result

        for _ in range(20):
            await execute("x = 1")
        empty = await atimed(lambda: execute("x = 1"), runs)
        calls = 50
        loop = f"for i in range({calls}):\n    bench.fast(n=i)"
        for _ in range(5):
            await execute(loop)
        with_calls = await atimed(lambda: execute(loop), max(20, runs // 10))
        per_call = (statistics.median(with_calls) - statistics.median(empty)) / calls
        concurrent = 'parallel([[bench.slow, {"n": i}] for i in range(10)])'
        await execute(concurrent)
        parallel_times = await atimed(lambda: execute(concurrent), 10)
    print(f"  executeToolCode, no tool calls ({engine}) {pct(empty)}")
    print(f"  added latency per nested tool call        {per_call:7.3f} ms  (median of {calls}-call scripts)")
    print(f"  10 concurrent calls to a 100 ms tool      median {statistics.median(parallel_times):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", type=int, default=5000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--engine", choices=["pyo3", "go"], default="pyo3")
    parser.add_argument("--freeze-gc", action="store_true")
    args = parser.parse_args()

    tools = catalog(args.data, args.tools)
    servers = len({t.server for t in tools})
    if args.freeze_gc:
        gc.collect()
        gc.freeze()
    print(f"Code Mode benchmark: {len(tools)} tools in {servers} servers from {args.data}")
    calibration = cpu_calibration()
    print(
        f"  python {sys.version.split()[0]}, CPU calibration (2M-step loop) {calibration:.0f} ms, "
        f"gc frozen: {args.freeze_gc}"
    )
    texts = Texts()
    print("Full re-render (new tool objects, nothing cached):")
    bench_render(tools, texts, runs=7)
    print("Meta-tools through CodeMode.call (view cached, as between catalog refreshes):")
    anyio.run(bench_meta, tools, args.runs)
    print("executeToolCode over the real sandbox:")
    anyio.run(bench_execute, args.engine, args.runs)


if __name__ == "__main__":
    main()
