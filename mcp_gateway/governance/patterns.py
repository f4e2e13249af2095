"""Tool patterns (`github.*`, `filesystem.read_*`, `everything.get-sum`) and their compiled form.

A pattern is `<server>.<tool as the upstream names it>`; `*` matches any run of characters (in
the server part it never crosses the first `.`, since server names contain none). Patterns are
compiled once per configuration into sets and at most one regular expression, so matching costs
a set lookup or one regex run however many patterns a view holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "EMPTY_MATCHER",
    "NAME_PATTERN",
    "ToolMatcher",
    "check_name",
    "check_tool_pattern",
    "compile_patterns",
]

_SERVER_PART = re.compile(r"^[A-Za-z0-9_*-]+$")

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"
"""Names of groups, customers, teams and keys: they appear in counter ids, URLs and logs."""

_NAME = re.compile(NAME_PATTERN)


def check_name(name: str) -> str:
    """Return `name` if it is a valid group/customer/team/key name, else raise `ValueError`."""
    if not _NAME.match(name):
        raise ValueError(
            f"name {name!r} must start with a letter or digit and use only letters, digits, "
            "'_', '-', '.' or '@' (at most 128 characters)"
        )
    return name


def check_tool_pattern(pattern: str) -> str:
    """Return `pattern` if it is a valid `<server>.<tool>` pattern, else raise `ValueError`."""
    server, dot, tool = pattern.partition(".")
    if not dot or not server or not tool:
        raise ValueError(
            f"tool pattern {pattern!r} must be '<server>.<tool>' with '*' wildcards, "
            "e.g. 'github.*' or 'filesystem.read_*'"
        )
    if not _SERVER_PART.match(server):
        raise ValueError(f"tool pattern {pattern!r}: server part {server!r} may hold letters, digits, '_', '-', '*'")
    if any(ch.isspace() for ch in tool):
        raise ValueError(f"tool pattern {pattern!r}: the tool part may not contain whitespace")
    return pattern


def _pattern_regex(pattern: str) -> str:
    server, _, tool = pattern.partition(".")
    server_rx = "[^.]*".join(re.escape(part) for part in server.split("*"))
    tool_rx = ".*".join(re.escape(part) for part in tool.split("*"))
    return rf"{server_rx}\.{tool_rx}"


@dataclass(frozen=True, slots=True)
class ToolMatcher:
    """A compiled set of patterns: exact names, whole servers, and one regex for the rest."""

    exact: frozenset[tuple[str, str]] = frozenset()
    servers: frozenset[str] = frozenset()
    regex: re.Pattern[str] | None = None
    everything: bool = False

    def matches(self, server: str, tool: str) -> bool:
        """True when some pattern matches `(server, tool)`."""
        if self.everything or server in self.servers or (server, tool) in self.exact:
            return True
        return self.regex is not None and self.regex.fullmatch(f"{server}.{tool}") is not None

    @property
    def empty(self) -> bool:
        """True when nothing can match."""
        return not (self.everything or self.exact or self.servers or self.regex is not None)


EMPTY_MATCHER = ToolMatcher()
"""Matches nothing: the default view (deny by default)."""


def compile_patterns(patterns: Iterable[str]) -> ToolMatcher:
    """Compile `patterns` (already validated by `check_tool_pattern`) into a `ToolMatcher`."""
    exact: set[tuple[str, str]] = set()
    servers: set[str] = set()
    wild: list[str] = []
    for pattern in dict.fromkeys(patterns):  # dedupe, keep order so the regex is deterministic
        server, _, tool = pattern.partition(".")
        if server == "*" and tool.strip("*") == "":
            return ToolMatcher(everything=True)
        if "*" not in server and tool == "*":
            servers.add(server)
        elif "*" not in pattern:
            exact.add((server, tool))
        else:
            wild.append(_pattern_regex(pattern))
    regex = re.compile("|".join(f"(?:{rx})" for rx in wild)) if wild else None
    return ToolMatcher(frozenset(exact), frozenset(servers), regex)
