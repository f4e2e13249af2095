"""Results and report: summary.json fields, markdown tables, plots, per-query diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.tokens.report import diagnose, write_report
from benchmarks.tokens.results import RoundResults, save_round
from benchmarks.tokens.runner import QueryResult


def _q(qid: str, mode: str, tokens: int, passed: bool = True, **cats: int) -> QueryResult:
    return QueryResult(
        id=qid,
        difficulty="simple",
        mode=mode,
        passed=passed,
        reasons=[] if passed else ["answer lacks 'x'"],
        input_tokens=tokens,
        output_tokens=10,
        turns=2,
        per_turn_input=[tokens // 2, tokens - tokens // 2],
        by_category=cats or {"tools": tokens},
        calls=[],
        answer="a",
        seconds=0.1,
    )


def test_summary_report_and_plots(tmp_path: Path) -> None:
    modes = {
        "classic": [_q("S1", "classic", 100_000), _q("S2", "classic", 100_000)],
        "codemode": [_q("S1", "codemode", 4_000, stubs=3_000, tools=1_000), _q("S2", "codemode", 30_000, False)],
    }
    save_round(RoundResults("r1", 6, 104, "o200k_base", "scripted", "server", modes), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())["r1"]
    assert {k: summary[k] for k in ("classic_input_tokens", "codemode_input_tokens", "classic_passed")} == {
        "classic_input_tokens": 200_000,
        "codemode_input_tokens": 34_000,
        "classic_passed": 2,
    }
    assert (summary["codemode_passed"], summary["total"], summary["tokenizer"], summary["model"]) == (
        1,
        2,
        "o200k_base",
        "scripted",
    )
    readme = write_report(tmp_path)
    assert readme is not None
    text = readme.read_text()
    assert "| r1 | 6 | 104 | 2 | 200,000 | 34,000 | 17.0 % | 83.0 % | ≤ 25 % (met)" in text
    assert "failed: answer lacks 'x'" in text
    for name in ("tokens_per_round.png", "reduction_vs_tools.png", "codemode_breakdown.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_diagnosis_names_the_biggest_cost() -> None:
    query = _q("S1", "codemode", 10_000, stubs=8_000, tools=2_000).as_dict()
    assert "stub files read whole" in diagnose(query, classic_in=100_000, goal=0.05)
    assert diagnose(query, classic_in=100_000, goal=0.25) == ""
