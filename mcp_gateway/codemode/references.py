"""Which tools a script can reach, read from its text before it runs (for reviewers).

Starlark's lexical syntax is Python's, so the standard tokenizer finds every `global.method`
reference outside strings and comments. A reference that a script builds dynamically (it cannot:
Starlark has no `getattr`) would not be found; every call is still checked when it happens.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping

from mcp_gateway.codemode.view import BoundTool

__all__ = ["reachable_tools"]


def reachable_tools(code: str, routes: Mapping[tuple[str, str], BoundTool]) -> tuple[str, ...]:
    """The call names (`github.create_issue`) of the view's tools that `code` references, sorted."""
    found: set[str] = set()
    window: list[str] = []  # the last three significant tokens: NAME '.' NAME
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                continue
            window = [*window[-2:], token.string if token.type in (tokenize.NAME, tokenize.OP) else "\0"]
            if len(window) == 3 and window[1] == ".":
                bound = routes.get((window[0], window[2]))
                if bound is not None:
                    found.add(bound.call_name)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # an unfinished script: what was read so far still counts; the sandbox reports the error
    return tuple(sorted(found))
