"""The plan expression language: Python rendering and the Starlark it compiles to agree."""

from __future__ import annotations

import json
from typing import Any

import pytest
import starlark as sl

from benchmarks.tokens.template import TemplateError, references, render, to_starlark

SCOPE: dict[str, Any] = {
    "cwd": "/work",
    "s1": {
        "results": [{"title": "A", "url": "u1", "meta": {"n": 1}}, {"title": "B", "url": "u2", "meta": {"n": 2}}],
        "content": "[FILE] a.py    9 B\n[DIR] sub\n\n[FILE] c.md   3 B\nTotal: 2",
        "result": "Created doc 'X' (ID: abc123) for u.",
        "id": "42",
    },
}

CASES = [
    "{{s1.results[*].title}}",
    "Titles:\n{{s1.results[*].title|join}}",
    "{{s1.results[0:1]}}",
    "{{s1.results[-1].url}}",
    "{{s1.results|len}}",
    "{{s1.content|lines|grep:[FILE]}}",
    "{{s1.content|lines|grep:[FILE]|at:1|words|at:1|after:.}}",
    "{{s1.result|after:(ID: |before:)}}",
    "| T | U |\n{{s1.results|rows:title,meta.n}}",
    "{{s1.results|table:title,url}}",
    "{{s1.id|int}}",
    "{{s1.id}}{{s1.id}}",
    "{{cwd}}/notes.txt",
    {"k": ["{{s1.results[0].url}}", 3, True, None], "path": "{{cwd}}/x"},
]


def _run_starlark(code: str) -> Any:
    prelude = f"s1 = {json.dumps(SCOPE['s1'])}\n"
    module = sl.Module()
    return sl.eval(module, sl.parse("t.star", prelude + code, sl.Dialect.standard()), sl.Globals.standard())


@pytest.mark.parametrize("value", CASES, ids=range(len(CASES)))
def test_python_and_starlark_agree(value: Any) -> None:
    names = {"s1": "s1", "cwd": json.dumps(SCOPE["cwd"])}
    assert _run_starlark(to_starlark(value, names)) == render(value, SCOPE)


def test_whole_placeholder_keeps_type_and_mixed_text_renders_text() -> None:
    assert render("{{s1.results|len}}", SCOPE) == 2
    assert render("n={{s1.results|len}}", SCOPE) == "n=2"
    assert render("{{s1.results[0]}}", SCOPE) == {"title": "A", "url": "u1", "meta": {"n": 1}}


def test_literals_are_written_into_the_script() -> None:
    code = to_starlark("{{s1.results[0].title}}!", {}, literals=SCOPE)
    assert code == 'str("A") + "!"'


def test_errors_and_references() -> None:
    assert references({"a": ["{{s1.x}} {{cwd}}"], "b": "{{s2|len}}"}) == {"s1", "cwd", "s2"}
    with pytest.raises(TemplateError):
        render("{{s1.missing}}", SCOPE)
    with pytest.raises(TemplateError):
        render("{{s1|nosuchfilter}}", SCOPE)
    with pytest.raises(TemplateError):
        render("{{s1.result|after:ZZZ}}", SCOPE)
