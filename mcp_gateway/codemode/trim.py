"""Cutting text to a size budget without splitting a character or a line."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["fit_lines", "split_budget", "trim_utf8"]


def trim_utf8(text: str, budget: int) -> tuple[str, int]:
    """`text` cut to at most `budget` UTF-8 bytes, and the number of bytes cut (0 if none)."""
    if len(text) <= budget // 4:  # fast path: even 4-byte characters would fit
        return text, 0
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= budget:
        return text, 0
    kept = data[: max(budget, 0)].decode("utf-8", "ignore")
    return kept, len(data) - len(kept.encode("utf-8", "surrogatepass"))


def split_budget(first: int, second: int, budget: int) -> tuple[int, int]:
    """Share `budget` between two texts of sizes `first` and `second`: each gets half, and a
    text that needs less than its half leaves the rest to the other."""
    if first + second <= budget:
        return first, second
    half = budget // 2
    if first <= half:
        return first, budget - first
    if second <= half:
        return budget - second, second
    return half, budget - half


def fit_lines(lines: Sequence[str], start: int, end: int, budget: int) -> int:
    """How many of `lines[start:end]` fit in `budget` characters (at least one)."""
    used = 0
    for i in range(start, end):
        used += len(lines[i]) + 1
        if used > budget and i > start:
            return i - start
    return end - start
