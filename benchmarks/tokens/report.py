"""Markdown report: tables shaped like the published ones, plus where Code Mode tokens go.

`write_report(out)` reads every `<out>/r*.json`, writes `<out>/README.md` and the PNG plots.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from benchmarks.tokens.plots import write_plots
from benchmarks.tokens.results import load_rounds, summarize

__all__ = ["GOALS", "PUBLISHED", "diagnose", "write_report"]

GOALS = MappingProxyType({"r1": 0.25, "r2": 0.07, "r3": 0.03})
"""Code Mode input tokens as a share of classic, at most (issue 7)."""
PUBLISHED = MappingProxyType({"r1": (96, 58.2), "r2": (251, 84.5), "r3": (508, 92.8)})
"""Bifrost's published runs: tools, input-token reduction in percent."""
CATEGORIES = ("system", "tools", "query", "model", "listing", "stubs", "docs", "results")


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _reduction(classic: float, code: float) -> str:
    return f"{100 * (1 - code / classic):.1f} %" if classic else "-"


def diagnose(query: Mapping[str, Any], classic_in: int, goal: float) -> str:
    """Why a Code Mode query failed or used more than the round's goal share of classic."""
    if not query["passed"]:
        return "failed: " + "; ".join(query["reasons"])[:300]
    if not classic_in or query["input_tokens"] <= goal * classic_in:
        return ""
    cats = Counter(query["by_category"])
    total = sum(cats.values()) or 1
    top, top_n = max(
        ((c, cats.get(c, 0)) for c in ("listing", "stubs", "docs", "results", "model")), key=lambda x: x[1]
    )
    hints = {
        "listing": "the listing is long",
        "stubs": "stub files read whole (large servers)",
        "docs": "docs read",
        "results": "script results are long (echoed data)",
        "model": "long scripts re-sent every turn",
    }
    fixed = cats.get("system", 0) + cats.get("tools", 0) + cats.get("query", 0)
    extra = f"; fixed context {_pct(fixed, total)}" if fixed / total > 0.5 else ""
    return f"{_pct(query['input_tokens'], classic_in)} of classic: {hints[top]} ({_pct(top_n, total)}){extra}"


def _round_table(rounds: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| Round | Servers | Tools | Queries | Classic input | Code Mode input | Code Mode / classic | Reduction "
        "| Goal | Classic passed | Code Mode passed | Bifrost reduction |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for data in rounds:
        s = summarize(data)
        rid = data["round"]
        share = s["codemode_input_tokens"] / s["classic_input_tokens"] if s["classic_input_tokens"] else 0
        met = "met" if share <= GOALS[rid] else "missed"
        lines.append(
            f"| {rid}{' (partial)' if data.get('partial') else ''} | {s['servers']} | {s['tools']} | {s['total']} "
            f"| {s['classic_input_tokens']:,} | {s['codemode_input_tokens']:,} | {100 * share:.1f} % "
            f"| {_reduction(s['classic_input_tokens'], s['codemode_input_tokens'])} "
            f"| ≤ {100 * GOALS[rid]:.0f} % ({met}) "
            f"| {s['classic_passed']}/{s['total']} | {s['codemode_passed']}/{s['total']} | {PUBLISHED[rid][1]} % |"
        )
    return lines


def _by_query(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for mode, queries in data["modes"].items():
        for q in queries:
            out.setdefault(q["id"], {"difficulty": q["difficulty"]})[mode] = q
    return out


def _difficulty_table(data: Mapping[str, Any]) -> list[str]:
    lines = [
        "| Difficulty | Queries | Classic input | Code Mode input | Reduction | Classic passed | Code Mode passed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in _by_query(data).values():
        groups.setdefault(entry["difficulty"], []).append(entry)
    for diff in ("simple", "medium", "hard", "edge"):
        rows = groups.get(diff)
        if not rows:
            continue
        c = sum(r["classic"]["input_tokens"] for r in rows if "classic" in r)
        m = sum(r["codemode"]["input_tokens"] for r in rows if "codemode" in r)
        cp = sum(1 for r in rows if r.get("classic", {}).get("passed"))
        mp = sum(1 for r in rows if r.get("codemode", {}).get("passed"))
        lines.append(
            f"| {diff} | {len(rows)} | {c:,} | {m:,} | {_reduction(c, m)} | {cp}/{len(rows)} | {mp}/{len(rows)} |"
        )
    return lines


def _query_table(data: Mapping[str, Any]) -> list[str]:
    goal = GOALS[data["round"]]
    lines = [
        "| Query | Difficulty | Classic input | Code Mode input | Reduction | Turns (C/CM) "
        "| Classic | Code Mode | Notes |",
        "|---|---|---:|---:|---:|---|---|---|---|",
    ]
    for qid, entry in _by_query(data).items():
        c, m = entry.get("classic"), entry.get("codemode")
        cin = c["input_tokens"] if c else 0
        min_ = m["input_tokens"] if m else 0
        notes = []
        if c and not c["passed"]:
            notes.append("classic failed: " + "; ".join(c["reasons"])[:200])
        if m:
            why = diagnose(m, cin, goal)
            if why:
                notes.append(why)
        gap = (c or m or {}).get("gap")
        if gap:
            notes.append(f"stand-in gap: {gap}")
        lines.append(
            f"| {qid} | {entry['difficulty']} | {cin:,} | {min_:,} | {_reduction(cin, min_)} "
            f"| {c['turns'] if c else '-'}/{m['turns'] if m else '-'} "
            f"| {'pass' if c and c['passed'] else 'FAIL' if c else '-'} "
            f"| {'pass' if m and m['passed'] else 'FAIL' if m else '-'} | {' / '.join(notes).replace('|', '/')} |"
        )
    return lines


def _category_table(rounds: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["| Round | " + " | ".join(CATEGORIES) + " |", "|---|" + "---:|" * len(CATEGORIES)]
    for data in rounds:
        cats: Counter[str] = Counter()
        for q in data["modes"].get("codemode", []):
            cats.update(q["by_category"])
        total = sum(cats.values())
        cells = " | ".join(f"{cats.get(c, 0):,} ({_pct(cats.get(c, 0), total)})" for c in CATEGORIES)
        lines.append(f"| {data['round']} | {cells} |")
    return lines


def write_report(out: Path) -> Path | None:
    """Render README.md and the plots in `out` from the saved rounds."""
    rounds = load_rounds(out)
    if not rounds:
        return None
    first = rounds[0]
    plots = write_plots(rounds, out)
    doc = [
        "# Token benchmark: classic vs Code Mode",
        "",
        f"Model: `{first['model']}`. Tokenizer: `{first['tokenizer']}` (bpe-openai, offline). "
        f"Code Mode stub binding: `{first['binding']}`. Input tokens are summed over every turn of every "
        "query: each turn re-sends the system prompt, the tool definitions and the conversation so far.",
        "Generated by `python -m benchmarks.tokens run --round all`; raw data in `r1.json`..`r3.json`, "
        "headline numbers in `summary.json`.",
        "",
        "## Per round",
        "",
        *_round_table(rounds),
        "",
        *[f"![{p.stem}]({p.name})" for p in plots],
        "",
        "## Where Code Mode input tokens go",
        "",
        "Input tokens of the Code Mode runs by what they carry: system prompt, tool definitions (the four "
        "meta-tools), the user query, the model's own turns (scripts) re-sent, and the results of "
        "listToolFiles (listing), readToolFile (stubs), getToolDocs (docs) and executeToolCode (results).",
        "",
        *_category_table(rounds),
    ]
    for data in rounds:
        doc += [
            "",
            f"## Round {data['round']}: {data['servers']} servers, {data['tools']} tools",
            "",
            *_difficulty_table(data),
            "",
            *_query_table(data),
        ]
    path = out / "README.md"
    path.write_text("\n".join(doc) + "\n", encoding="utf-8")
    return path
