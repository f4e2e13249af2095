"""Identifiers for tool, parameter and server names."""

from __future__ import annotations

import itertools
import keyword

import pytest

from mcp_gateway.codemode.naming import SCRIPT_RESERVED, STARLARK_RESERVED, python_identifier, unique_identifiers


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("create_issue", "create_issue"),
        ("get-sum", "get_sum"),
        ("2fa.verify", "_2fa_verify"),
        ("API-post-search", "API_post_search"),
        ("in", "in_"),
        ("async", "async_"),
        ("load", "load_"),
        ("None", "None_"),
        ("", "_"),
        ("héllo wörld", "h_llo_w_rld"),
        ("a/b:c", "a_b_c"),
        ("_sandbox_host", "x_sandbox_host"),
    ],
)
def test_python_identifier(name: str, ident: str) -> None:
    assert python_identifier(name) == ident
    assert ident.isidentifier() and not keyword.iskeyword(ident) and ident not in STARLARK_RESERVED


def test_server_globals_avoid_builtins() -> None:
    assert python_identifier("print", avoid=SCRIPT_RESERVED) == "print_"
    assert python_identifier("result", avoid=SCRIPT_RESERVED) == "result_"
    assert python_identifier("github", avoid=SCRIPT_RESERVED) == "github"


def test_collisions_are_numbered_and_valid_names_win() -> None:
    idents = unique_identifiers(["get-sum", "get_sum", "get.sum"])
    assert idents == {"get_sum": "get_sum", "get-sum": "get_sum_2", "get.sum": "get_sum_3"}


def test_unique_identifiers_do_not_depend_on_order() -> None:
    names = ["a-b", "a_b", "a.b", "a_b_2", "in", "in_", "x"]
    expected = unique_identifiers(names)
    assert len(set(expected.values())) == len(names)
    for perm in itertools.islice(itertools.permutations(names), 200):
        assert unique_identifiers(perm) == expected


def test_numbered_name_never_steals_a_real_name() -> None:
    idents = unique_identifiers(["a-b", "a_b", "a_b_2"])
    assert idents["a_b"] == "a_b" and idents["a_b_2"] == "a_b_2"
    assert idents["a-b"] == "a_b_3"
