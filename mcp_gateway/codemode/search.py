"""Keyword search over a view's tools, for `listToolFiles(query=...)`."""

from __future__ import annotations

import re

from mcp_gateway.codemode.view import BoundTool, CodeView

__all__ = ["keywords", "search"]

_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset({"a", "an", "and", "the", "to", "of", "in", "on", "for", "with", "by", "or", "from", "tool"})


def keywords(query: str) -> list[str]:
    """Lower-cased words of `query` without stop words; a plural `s` is dropped (`issues`
    matches `issue`)."""
    words = []
    for word in _WORD.findall(query.lower()):
        if word in _STOPWORDS:
            continue
        words.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return list(dict.fromkeys(words))


def search(view: CodeView, query: str) -> dict[str, list[BoundTool]] | None:
    """Tools matching `query`, by server name; None when the query has no keywords.

    A tool matches when its server name, tool names, title or description contain every keyword.
    When no tool contains them all, the tools containing the most keywords are returned instead,
    so a query with one stray word still finds something.
    """
    words = keywords(query)
    if not words:
        return None
    best = 1
    found: dict[str, list[tuple[int, BoundTool]]] = {}
    for server in view.servers:
        for bound in server.tools:
            text = bound.search_text
            score = 0
            for w in words:
                if w in text:
                    score += 1
            if score >= best:
                best = score
                found.setdefault(server.name, []).append((score, bound))
    return {name: [b for score, b in hits if score == best] for name, hits in found.items()} | {
        s.name: [] for s in view.servers if s.name not in found
    }
