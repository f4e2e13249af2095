"""Keyword search over a view's tools, for `listToolFiles(query=...)`.

Texts (server name, tool names, title, description) are split into lower-cased words, camelCase
and snake_case apart (`listIssues` -> `list`, `issues`). A keyword matches a tool when it is the
start of one of its words (`issue` matches `issues` and `issue_write`), or any part of its
server's name (`calendar` matches every tool of `googlecalendar`); a plural `s` on a keyword is
dropped. Each view gets one `SearchIndex` (built on its first query): a sorted vocabulary with the
tools of each word, so a keyword costs a binary search and a few set unions.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from mcp_gateway.codemode.naming import WORDS
from mcp_gateway.codemode.view import BoundTool, ServerView

__all__ = ["SearchIndex", "keywords"]

_STOPWORDS = frozenset({"a", "an", "and", "the", "to", "of", "in", "on", "for", "with", "by", "or", "from", "tool"})


def keywords(query: str) -> list[str]:
    """The search words of `query`: lower-cased, without stop words, plural `s` dropped."""
    found = []
    for word in WORDS.findall(query):
        word = word.lower()  # noqa: PLW2901
        if word in _STOPWORDS:
            continue
        found.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return list(dict.fromkeys(found))


class SearchIndex:
    """The tools of one view, searchable by keyword."""

    __slots__ = ("_postings", "_ranges", "_servers", "_tools", "_vocabulary")

    def __init__(self, servers: Sequence[ServerView]) -> None:
        self._servers = servers
        self._tools: list[tuple[str, BoundTool]] = [(s.name, b) for s in servers for b in s.tools]
        self._ranges: list[tuple[str, range]] = []  # lower-cased server name -> its tools' indexes
        start = 0
        for server in servers:
            self._ranges.append((server.name.lower(), range(start, start + len(server.tools))))
            start += len(server.tools)
        postings: dict[str, list[int]] = {}
        for index, (_, bound) in enumerate(self._tools):
            for word in bound.search_words:
                postings.setdefault(word, []).append(index)
        self._postings = postings
        self._vocabulary = sorted(postings)

    def search(self, query: str) -> dict[str, list[BoundTool]] | None:
        """Tools matching `query`, by server name (every server present); None without keywords.

        A tool matches when every keyword starts one of its words. When no tool has them all,
        the tools with the most keywords are returned instead, so one stray word still finds
        something.
        """
        terms = keywords(query)
        if not terms:
            return None
        scores: dict[int, int] = {}
        for term in terms:
            for index in self._hits(term):
                scores[index] = scores.get(index, 0) + 1
        best = max(scores.values(), default=0)
        found: dict[str, list[BoundTool]] = {s.name: [] for s in self._servers}
        if best:
            for index in sorted(i for i, score in scores.items() if score == best):
                server, bound = self._tools[index]
                found[server].append(bound)
        return found

    def _hits(self, term: str) -> set[int]:
        vocabulary = self._vocabulary
        start = bisect.bisect_left(vocabulary, term)
        end = bisect.bisect_left(vocabulary, term + "\U0010ffff", start)
        hits: set[int] = set()
        for word in vocabulary[start:end]:
            hits.update(self._postings[word])
        for name, indexes in self._ranges:
            if term in name:
                hits.update(indexes)
        return hits
