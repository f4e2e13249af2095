"""Command line: run a round of the token benchmark and write the report.

    python -m benchmarks.tokens run --round r1 [--quick] [--mode classic|codemode|both]
    python -m benchmarks.tokens run --round all
    python -m benchmarks.tokens report            # re-render tables and plots from saved results

The default model is the offline scripted one. A real model runs with `--model openai` or
`--model anthropic` plus `--base-url`, `--api-key` (or env `BENCH_API_KEY`) and `--model-name`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from benchmarks.tokens.dataset import ROUNDS, load_round
from benchmarks.tokens.gateway import REPO_ROOT
from benchmarks.tokens.models.base import Model
from benchmarks.tokens.models.http_models import AnthropicModel, OpenAIModel
from benchmarks.tokens.models.scripted import ScriptedClassic
from benchmarks.tokens.models.scripted_codemode import ScriptedCodeMode
from benchmarks.tokens.plan import Plan
from benchmarks.tokens.report import write_report
from benchmarks.tokens.results import RoundResults, save_round
from benchmarks.tokens.runner import MODES, QUICK, QueryResult, run_mode
from benchmarks.tokens.tokens import TokenCounter

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
WORK_DIR = REPO_ROOT / "benchmarks" / ".work"


def _factory(ns: argparse.Namespace) -> Any:
    def make(plan: Plan, mode: str, ctx: dict[str, Any]) -> Model:
        if ns.model == "scripted":
            return ScriptedClassic(plan, ctx) if mode == "classic" else ScriptedCodeMode(plan, ctx)
        key = ns.api_key or os.environ.get("BENCH_API_KEY", "")
        cls = OpenAIModel if ns.model == "openai" else AnthropicModel
        return cls(base_url=ns.base_url, api_key=key, model=ns.model_name)

    return make


def _progress(result: QueryResult) -> None:
    mark = "ok  " if result.passed else "FAIL"
    why = "" if result.passed else "  " + "; ".join(result.reasons)[:200]
    print(f"  {mark} {result.mode:8} {result.id:6} in={result.input_tokens:>9,} turns={result.turns}{why}", flush=True)


def _run(ns: argparse.Namespace) -> int:
    rounds = list(ROUNDS) if ns.round == "all" else [ns.round]
    modes = list(MODES) if ns.mode == "both" else [ns.mode]
    counter = TokenCounter(ns.tokenizer)
    out = Path(ns.out) if ns.out else (WORK_DIR / "quick-results" if ns.quick else RESULTS_DIR)
    failed = 0
    for round_id in rounds:
        rnd = load_round(round_id)
        ids = QUICK[round_id] if ns.quick else (ns.only.split(",") if ns.only else None)
        tasks = [t for t in rnd.tasks if ids is None or t.id in ids]
        print(f"{round_id}: {len(rnd.servers)} servers, {rnd.tool_count} tools, {len(tasks)} queries", flush=True)
        results: dict[str, list[QueryResult]] = {}
        for mode in modes:
            results[mode] = run_mode(
                rnd,
                mode,
                tasks,
                workdir=WORK_DIR / "runs",
                factory=_factory(ns),
                counter=counter,
                binding=ns.binding,
                gateway_url=ns.gateway_url,
                api_key=ns.gateway_key,
                inprocess=ns.inprocess,
                progress=_progress,
            )
        model_name = ns.model if ns.model == "scripted" else f"{ns.model}:{ns.model_name}"
        transport = "in-process" if ns.inprocess else "/mcp"
        data = RoundResults(
            rnd.id, len(rnd.servers), rnd.tool_count, counter.name, model_name, ns.binding, results, transport
        )
        save_round(data, out, partial=bool(ns.quick or ns.only))
        failed += sum(not r.passed for rs in results.values() for r in rs)
    write_report(out)
    print(f"results and report in {out}")
    return 1 if failed and ns.strict else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tokens", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a round (or all) in both modes")
    run.add_argument("--round", default="r1", choices=[*ROUNDS, "all"])
    run.add_argument("--quick", action="store_true", help="a handful of queries (what CI runs)")
    run.add_argument("--only", help="comma-separated query ids")
    run.add_argument("--mode", default="both", choices=[*MODES, "both"])
    run.add_argument("--binding", default="server", choices=["server", "tool"], help="Code Mode stub layout")
    run.add_argument("--model", default="scripted", choices=["scripted", "openai", "anthropic"])
    run.add_argument("--model-name", default="", help="model id for a real model")
    run.add_argument("--base-url", default="", help="provider base URL for a real model")
    run.add_argument("--api-key", default="", help="provider key (default: env BENCH_API_KEY)")
    run.add_argument("--gateway-url", help="use a running gateway's /mcp instead of starting one")
    run.add_argument("--gateway-key", help="its API key")
    run.add_argument(
        "--inprocess",
        action="store_true",
        help="serve the tools with the gateway's own parts in this process instead of over /mcp",
    )
    run.add_argument("--tokenizer", default="o200k_base", choices=["o200k_base", "cl100k_base"])
    run.add_argument("--out", help="results directory (default benchmarks/results; --quick: benchmarks/.work)")
    run.add_argument("--strict", action="store_true", help="exit 1 when a query fails")
    rep = sub.add_parser("report", help="re-render the report from saved results")
    rep.add_argument("--out", default=str(RESULTS_DIR))
    ns = parser.parse_args(argv)
    if ns.command == "report":
        write_report(Path(ns.out))
        return 0
    if ns.model != "scripted" and not ns.base_url:
        parser.error("--base-url is required for a real model")
    return _run(ns)


if __name__ == "__main__":
    sys.exit(main())
