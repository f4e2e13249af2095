"""End to end: a few round-1 queries through the real gateway (`mcp-gateway serve`, /mcp), and in
process with the gateway's own Code Mode and sandbox; both modes graded and counted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from benchmarks.tokens.client import open_gateway_session
from benchmarks.tokens.dataset import load_round
from benchmarks.tokens.gateway import NODE_BIN, gateway_config, running_gateway
from benchmarks.tokens.models.scripted import ScriptedClassic
from benchmarks.tokens.models.scripted_codemode import ScriptedCodeMode
from benchmarks.tokens.runner import QueryResult, run_mode
from benchmarks.tokens.tokens import TokenCounter
from benchmarks.tokens.workspace import Workspace

pytestmark = [pytest.mark.npm, pytest.mark.slow]
QUERIES = ["S1", "M9", "NT1"]


@pytest.fixture(autouse=True)
def _npm_servers() -> None:
    # .ci/run installs benchmarks/tokens' npm servers, so CI fails when they are missing;
    # elsewhere a missing install skips (BENCH_REQUIRE_NPM=1 makes it fail too).
    if not (NODE_BIN / "mcp-server-filesystem").exists():
        message = "npm servers missing: run `npm ci --prefix benchmarks/tokens`"
        if os.environ.get("BENCH_REQUIRE_NPM") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _factory(plan: Any, mode: str, ctx: dict[str, Any]) -> Any:
    return ScriptedClassic(plan, ctx) if mode == "classic" else ScriptedCodeMode(plan, ctx)


def _run(mode: str, tmp_path: Path, **kw: Any) -> list[QueryResult]:
    rnd = load_round("r1")
    tasks = [t for t in rnd.tasks if t.id in QUERIES]
    return run_mode(rnd, mode, tasks, workdir=tmp_path, factory=_factory, counter=TokenCounter(), **kw)  # type: ignore[arg-type]


def test_classic_through_the_gateway(tmp_path: Path) -> None:
    results = _run("classic", tmp_path)
    assert [r.id for r in results] == QUERIES
    for r in results:
        assert r.passed, (r.id, r.reasons)
        assert r.input_tokens > 40_000 * r.turns  # 104 tool definitions on every turn


def test_code_mode_in_process(tmp_path: Path) -> None:
    results = _run("codemode", tmp_path, inprocess=True)
    for r in results:
        assert r.passed, (r.id, r.reasons)
        assert r.by_category["listing"] > 0
        assert r.by_category["stubs"] > 0
        assert r.input_tokens < 20_000
        assert r.script and "print(" in r.script


def test_code_mode_through_the_gateway(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "probe")
    ws.reset()
    with running_gateway(gateway_config(load_round("r1"), "codemode", ws), tmp_path / "gw") as gw:

        async def meta_tools() -> list[str]:
            with anyio.fail_after(60):
                async with open_gateway_session(gw.url, gw.api_key) as session:
                    return [t["name"] for t in await session.list_tools()]

        names = anyio.run(meta_tools)
    if "executeToolCode" not in names:
        pytest.skip("the gateway does not serve Code Mode on /mcp yet")
    for r in _run("codemode", tmp_path):
        assert r.passed, (r.id, r.reasons)


def test_quick_run_of_every_round_through_the_cli(tmp_path: Path) -> None:
    """What CI runs to keep the harness working: `run --round all --quick --strict`."""
    import subprocess
    import sys

    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.tokens", "run", "--round", "all", "--quick", "--strict", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    for round_id in ("r1", "r2", "r3"):
        entry = summary[round_id]
        assert entry["codemode_passed"] == entry["total"] == entry["classic_passed"]
        assert entry["codemode_input_tokens"] < entry["classic_input_tokens"]
