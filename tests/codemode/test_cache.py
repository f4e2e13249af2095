"""Views and files are cached by CatalogTool identity and rebuilt only when they must be."""

from __future__ import annotations

import dataclasses

from mcp_gateway.codemode import CodeMode
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import Binding, ViewBuilder

from .conftest import load_tools, make_ctx, tool


def test_same_content_same_view_even_from_another_mapping() -> None:
    tools = load_tools("github.json")
    builder = ViewBuilder(Texts())
    first = builder.view({t.exposed_name: t for t in tools}, lambda _: "server")
    second = builder.view({t.exposed_name: t for t in tools}, lambda _: "server")
    assert first is second


def test_files_render_once_and_are_shared_between_views() -> None:
    tools = load_tools("github.json") + load_tools("linear.json")
    builder = ViewBuilder(Texts())
    both = builder.view({t.exposed_name: t for t in tools}, lambda _: "server")
    github_only = builder.view({t.exposed_name: t for t in tools if t.server == "github"}, lambda _: "server")
    assert both is not github_only
    assert both.files["servers/github.pyi"] is github_only.files["servers/github.pyi"]
    text = both.files["servers/github.pyi"].text
    assert github_only.files["servers/github.pyi"].text is text


def test_refreshed_tool_objects_rebuild_only_their_server() -> None:
    github, linear = load_tools("github.json"), load_tools("linear.json")
    builder = ViewBuilder(Texts())
    before = builder.view({t.exposed_name: t for t in github + linear}, lambda _: "server")
    refreshed = [dataclasses.replace(t, description="Changed.") if t.name == "get_me" else t for t in github]
    after = builder.view({t.exposed_name: t for t in refreshed + linear}, lambda _: "server")
    assert after is not before
    assert after.files["servers/linear.pyi"] is before.files["servers/linear.pyi"]
    assert "def get_me() -> Any: ...  # Changed." in after.files["servers/github.pyi"].text
    # an equal-looking but new object is a new version: compared by identity, never by value
    copy = [dataclasses.replace(t) for t in linear]
    again = builder.view({t.exposed_name: t for t in github + copy}, lambda _: "server")
    assert again.by_server["linear"] is not before.by_server["linear"]


def test_a_mapping_mutated_in_place_is_not_served_stale() -> None:
    builder = ViewBuilder(Texts())
    mapping = {t.exposed_name: t for t in [tool("s", "a"), tool("s", "b")]}
    first = builder.view(mapping, lambda _: "server")
    del mapping["s__b"]
    second = builder.view(mapping, lambda _: "server")
    assert set(second.by_server["s"].by_ident) == {"a"}
    assert first is not second


def test_binding_change_is_noticed() -> None:
    builder = ViewBuilder(Texts())
    mapping = {t.exposed_name: t for t in [tool("s", "a")]}
    choice: dict[str, Binding] = {"s": "server"}
    assert list(builder.view(mapping, lambda s: choice[s]).files) == ["servers/s.pyi"]
    choice["s"] = "tool"
    assert list(builder.view(mapping, lambda s: choice[s]).files) == ["servers/s/a.pyi"]


def test_listing_and_query_results_are_cached(code_mode: CodeMode) -> None:
    ctx = make_ctx(load_tools("github.json"))
    view = code_mode.view(ctx)
    assert code_mode.view(make_ctx(load_tools("github.json"))) is not view  # new objects: a new view
    assert code_mode.view(ctx) is view
    code_mode.clear_caches()
    assert code_mode.view(ctx) is not view


def test_specs_are_made_lazily() -> None:
    tools = load_tools("github.json")
    builder = ViewBuilder(Texts())
    view = builder.view({t.exposed_name: t for t in tools}, lambda _: "tool")
    assert all(b._spec is None for s in view.servers for b in s.tools)
    assert view.files["servers/github/get_me.pyi"].text
    made = [b.ident for s in view.servers for b in s.tools if b._spec is not None]
    assert made == ["get_me"]
