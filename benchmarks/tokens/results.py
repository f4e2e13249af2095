"""Saved results: one JSON file per round, plus `summary.json` with the headline numbers.

`<out>/<round>.json` keeps every query of every mode (tokens per turn and by category, grade,
calls, answer, the Code Mode script), so the report can be re-rendered without re-running.
`summary.json` holds per round: classic_input_tokens, codemode_input_tokens, classic_passed,
codemode_passed, total, tokenizer, model (and a few more fields for the report).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.tokens.runner import QueryResult

__all__ = ["RoundResults", "load_rounds", "save_round", "summarize"]


@dataclass(slots=True)
class RoundResults:
    """All results of one round."""

    round: str
    servers: int
    tools: int
    tokenizer: str
    model: str
    binding: str
    modes: Mapping[str, list[QueryResult]]
    transport: str = "/mcp"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "round": self.round,
            "servers": self.servers,
            "tools": self.tools,
            "tokenizer": self.tokenizer,
            "model": self.model,
            "binding": self.binding,
            "transport": self.transport,
            "modes": {m: [r.as_dict() for r in rs] for m, rs in self.modes.items()},
        }


def summarize(data: Mapping[str, Any]) -> dict[str, Any]:
    """The summary entry of one round (from its saved dict)."""
    modes = data["modes"]

    def total(mode: str, key: str) -> int:
        return int(sum(q[key] for q in modes.get(mode, [])))

    def passed(mode: str) -> int:
        return sum(1 for q in modes.get(mode, []) if q["passed"])

    classic, code = total("classic", "input_tokens"), total("codemode", "input_tokens")
    return {
        "classic_input_tokens": classic,
        "codemode_input_tokens": code,
        "classic_passed": passed("classic"),
        "codemode_passed": passed("codemode"),
        "total": max((len(v) for v in modes.values()), default=0),
        "tokenizer": data["tokenizer"],
        "model": data["model"],
        "codemode_share": round(code / classic, 4) if classic else None,
        "reduction_pct": round(100 * (1 - code / classic), 1) if classic else None,
        "classic_output_tokens": total("classic", "output_tokens"),
        "codemode_output_tokens": total("codemode", "output_tokens"),
        "servers": data["servers"],
        "tools": data["tools"],
        "binding": data["binding"],
        "transport": data.get("transport", "/mcp"),
    }


def save_round(results: RoundResults, out: Path, *, partial: bool = False) -> Path:
    """Write `<out>/<round>.json` and update `summary.json` (`partial` marks a subset run)."""
    out.mkdir(parents=True, exist_ok=True)
    data = results.as_dict()
    data["partial"] = partial
    path = out / f"{results.round}.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    summary[results.round] = {**summarize(data), "partial": partial}
    summary_path.write_text(json.dumps(dict(sorted(summary.items())), indent=2) + "\n", encoding="utf-8")
    return path


def load_rounds(out: Path) -> list[dict[str, Any]]:
    """Every saved round under `out`, in round order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("r[0-9].json"))]
