"""Namespaced names: valid for every client, collision-free, and stable."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mcp_gateway.catalog.naming import MAX_NAME_LENGTH, exposed_names

VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_plain_names_are_prefixed() -> None:
    assert exposed_names("github", ["create_issue", "get-me"]) == {
        "create_issue": "github__create_issue",
        "get-me": "github__get-me",
    }


def test_sanitising_collisions_prefer_names_that_needed_no_change() -> None:
    names = exposed_names("s", ["a.b", "a_b", "a b"])
    assert names["a_b"] == "s__a_b"
    assert names["a.b"].startswith("s__a_b_") and names["a b"].startswith("s__a_b_")
    assert len(set(names.values())) == 3


def test_long_names_are_cut_with_a_hash() -> None:
    long_a, long_b = "x" * 100 + "a", "x" * 100 + "b"
    names = exposed_names("server", [long_a, long_b])
    assert all(len(n) == MAX_NAME_LENGTH for n in names.values())
    assert names[long_a] != names[long_b]


def test_without_namespace_names_stay_as_upstream_names_them() -> None:
    assert exposed_names("s", ["echo"], namespace=False) == {"echo": "echo"}


@given(st.lists(st.text(min_size=1, max_size=120), max_size=30))
def test_exposed_names_are_valid_unique_and_order_independent(tools: list[str]) -> None:
    names = exposed_names("srv", tools)
    assert all(VALID.match(n) for n in names.values())
    assert len(set(names.values())) == len(set(tools))
    assert exposed_names("srv", list(reversed(tools))) == names
