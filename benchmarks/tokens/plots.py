"""PNG plots of the report: tokens per round and mode, reduction against tool count, and where
Code Mode tokens go. matplotlib with the non-interactive Agg backend (no display needed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # headless: no display on CI or build machines

import matplotlib.pyplot as plt

__all__ = ["write_plots"]

PUBLISHED = MappingProxyType({96: 58.2, 251: 84.5, 508: 92.8})
SHOWN = ("listing", "stubs", "docs", "results", "model", "tools", "system", "query")


def _totals(data: Mapping[str, Any], mode: str) -> int:
    return int(sum(q["input_tokens"] for q in data["modes"].get(mode, [])))


def _tokens_per_round(rounds: Sequence[Mapping[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [f"{d['round']}\n{d['tools']} tools" for d in rounds]
    xs = range(len(rounds))
    classic = [_totals(d, "classic") for d in rounds]
    code = [_totals(d, "codemode") for d in rounds]
    ax.bar([x - 0.2 for x in xs], classic, width=0.4, label="classic", color="#9aa5b1")
    ax.bar([x + 0.2 for x in xs], code, width=0.4, label="Code Mode", color="#2f80ed")
    ax.set_yscale("log")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("input tokens, all queries (log scale)")
    ax.set_title("Input tokens per round and mode")
    for x, c, m in zip(xs, classic, code, strict=True):
        if c:
            ax.annotate(f"{100 * m / c:.1f} %", (x + 0.2, max(m, 1)), ha="center", va="bottom", fontsize=8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _reduction_vs_tools(rounds: Sequence[Mapping[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    pts = [
        (d["tools"], 100 * (1 - _totals(d, "codemode") / _totals(d, "classic")))
        for d in rounds
        if _totals(d, "classic")
    ]
    if pts:
        ax.plot(
            [p[0] for p in pts], [p[1] for p in pts], "o-", label="this gateway (scripted, graded)", color="#2f80ed"
        )
    ax.plot(list(PUBLISHED), list(PUBLISHED.values()), "s--", label="Bifrost published", color="#eb5757")
    ax.set_xlabel("tools exposed in classic mode")
    ax.set_ylabel("input-token reduction (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Reduction against tool count")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _where_tokens_go(rounds: Sequence[Mapping[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    bottoms = [0.0] * len(rounds)
    labels = [d["round"] for d in rounds]
    per_round: list[Counter[str]] = []
    for d in rounds:
        cats: Counter[str] = Counter()
        for q in d["modes"].get("codemode", []):
            cats.update(q["by_category"])
        per_round.append(cats)
    for cat in SHOWN:
        values = [c.get(cat, 0) / max(1, sum(c.values())) * 100 for c in per_round]
        ax.bar(labels, values, bottom=bottoms, label=cat)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_ylabel("share of Code Mode input tokens (%)")
    ax.set_title("Where Code Mode input tokens go")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_plots(rounds: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    """Write the three plots into `out`; returns their paths."""
    paths = [out / "tokens_per_round.png", out / "reduction_vs_tools.png", out / "codemode_breakdown.png"]
    _tokens_per_round(rounds, paths[0])
    _reduction_vs_tools(rounds, paths[1])
    _where_tokens_go(rounds, paths[2])
    return paths
