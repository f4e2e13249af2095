"""Views: patterns, composition over key/team/customer, allowed and blocked tools, deny by default,
and the per-tool policy (granting groups, approval, Code Mode, cost)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.governance import Governance, ToolPolicy
from mcp_gateway.governance.patterns import check_tool_pattern, compile_patterns

from .conftest import EXAMPLE, load

TOOLS = [
    ("filesystem", "read_file"),
    ("filesystem", "read_dir"),
    ("filesystem", "write_file"),
    ("time", "now"),
    ("time", "convert"),
    ("deploy", "staging"),
    ("deploy", "prod_api"),
    ("deploy", "prod_db"),
    ("deploy", "rollback"),
    ("web", "search"),
    ("web", "fetch"),
    ("docs", "lookup"),
    ("github", "get_issue"),
    ("github", "create_issue"),
    ("other", "thing"),
]


async def governance(env: dict[str, str], text: str = EXAMPLE) -> Governance:
    return await Governance.from_config(load(text, env), env=env)


def visible(gov: Governance, key: str) -> set[tuple[str, str]]:
    identity = gov.authenticate(key)
    return {t for t in TOOLS if identity.allows(*t)}


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("github.*", [("github", "a"), ("github", "a.b")], [("githubx", "a"), ("git", "hub.a")]),
        ("filesystem.read_*", [("filesystem", "read_"), ("filesystem", "read_file")], [("filesystem", "reads")]),
        ("everything.get-sum", [("everything", "get-sum")], [("everything", "get-sums"), ("everything", "get_sum")]),
        ("*.search", [("web", "search"), ("docs", "search")], [("web", "research"), ("a.b", "search")]),
        ("git*.get_*", [("github", "get_x"), ("gitlab", "get_")], [("github", "list")]),
        ("srv.a.b", [("srv", "a.b")], [("srv", "a"), ("srv", "aXb")]),
        ("srv.a+b(c)", [("srv", "a+b(c)")], [("srv", "aab(c)")]),
        ("*.*", [("x", "y"), ("a-b", "c.d")], []),
    ],
)
def test_patterns(pattern: str, yes: list[tuple[str, str]], no: list[tuple[str, str]]) -> None:
    matcher = compile_patterns([check_tool_pattern(pattern)])
    assert all(matcher.matches(*t) for t in yes)
    assert not any(matcher.matches(*t) for t in no)


names = st.text(alphabet="ab_-.", min_size=1, max_size=6)
servers = st.text(alphabet="ab_-", min_size=1, max_size=4)
pattern_parts = st.text(alphabet="ab_-.*", min_size=1, max_size=5)


@settings(database=None)  # no .hypothesis/ directory in the repo
@given(
    patterns=st.lists(st.tuples(st.text(alphabet="ab_-*", min_size=1, max_size=4), pattern_parts), max_size=6),
    server=servers,
    tool=names,
)
def test_compiled_matcher_agrees_with_a_naive_glob(patterns: list[tuple[str, str]], server: str, tool: str) -> None:
    texts = [f"{s}.{t}" for s, t in patterns]

    def naive(text: str) -> bool:
        s, _, t = text.partition(".")
        server_ok = re.fullmatch(fnmatch.translate(s).replace(".*", "[^.]*"), server) is not None
        return server_ok and fnmatch.fnmatchcase(tool, t)

    assert compile_patterns(texts).matches(server, tool) == any(naive(p) for p in texts)


async def test_view_is_union_of_key_team_customer_groups_minus_blocked(env: dict[str, str]) -> None:
    gov = await governance(env)
    assert visible(gov, env["RAHUL_KEY"]) == {
        ("filesystem", "read_file"),
        ("filesystem", "read_dir"),
        ("time", "now"),
        ("time", "convert"),  # team
        ("deploy", "staging"),
        ("deploy", "prod_api"),
        ("deploy", "prod_db"),  # key (rollback blocked)
        ("web", "search"),
        ("docs", "lookup"),  # customer
    }


async def test_allowed_tools_add_to_the_view(env: dict[str, str]) -> None:
    gov = await governance(env)
    assert visible(gov, env["ANNA_KEY"]) == {("web", "search"), ("docs", "lookup"), ("github", "get_issue")}


async def test_deny_by_default(env: dict[str, str]) -> None:
    gov = await governance(env)
    bob = gov.authenticate(env["BOB_KEY"])
    assert visible(gov, env["BOB_KEY"]) == set()
    assert bob.groups == () and gov.policy_for(bob, "time", "now") is None


async def test_team_and_customer_blocks_apply_to_members(env: dict[str, str]) -> None:
    text = EXAMPLE.replace("data: {customer: acme}", "data: {customer: acme, blocked_tools: ['web.*']}")
    text = text.replace(
        "acme: {tool_groups: [search],", "acme: {tool_groups: [search], blocked_tools: ['docs.lookup'],"
    )
    gov = await governance(env, text)
    assert visible(gov, env["ANNA_KEY"]) == {("github", "get_issue")}
    assert ("docs", "lookup") not in visible(gov, env["RAHUL_KEY"])


async def test_groups_for_and_policy(env: dict[str, str]) -> None:
    gov = await governance(env)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    assert rahul.groups == ("platform", "readers", "search")  # key's, team's, customer's
    assert rahul.view is not None
    assert rahul.view.groups_for("deploy", "staging") == ("platform",)
    assert rahul.view.groups_for("deploy", "rollback") == ()  # blocked: outside the view
    assert gov.policy_for(rahul, "deploy", "staging") == ToolPolicy(
        groups=("platform",), approval="review", code_mode=None, cost=0.5, limited_groups=("platform",)
    )
    assert gov.policy_for(rahul, "deploy", "prod_api") is not None
    assert gov.policy_for(rahul, "deploy", "prod_api").cost == 2.0  # type: ignore[union-attr]
    assert gov.policy_for(rahul, "deploy", "prod_db").cost == 5.0  # type: ignore[union-attr]  # exact wins
    assert gov.policy_for(rahul, "web", "search") == ToolPolicy(groups=("search",), code_mode=True)
    anna = gov.authenticate(env["ANNA_KEY"])
    assert gov.policy_for(anna, "github", "get_issue") == ToolPolicy()  # only allowed_tools grants it


async def test_overlapping_groups_take_the_strictest_approval_and_highest_cost(env: dict[str, str]) -> None:
    text = """
tool_groups:
  a: {tools: ["gh.*"], approval: auto, cost: 1, code_mode: false}
  b: {tools: ["gh.merge"], approval: deny, cost: 3}
  c: {tools: ["gh.*"], approval: review, code_mode: true}
virtual_keys:
  k: {key: the-key, tool_groups: [a, b, c]}
"""
    gov = await governance(env, text)
    k = gov.authenticate("the-key")
    assert gov.policy_for(k, "gh", "merge") == ToolPolicy(
        groups=("a", "b", "c"), approval="deny", code_mode=True, cost=3.0
    )
    assert gov.policy_for(k, "gh", "list") == ToolPolicy(groups=("a", "c"), approval="review", code_mode=True, cost=1.0)


async def test_identical_views_are_shared(env: dict[str, str]) -> None:
    text = EXAMPLE + "  carol: {key: carol-key, team: data, allowed_tools: ['github.get_*']}\n"
    gov = await governance(env, text)
    assert gov.authenticate("carol-key").view is gov.authenticate(env["ANNA_KEY"]).view


@dataclass
class FakeTool:
    server: str
    name: str


async def test_filter_catalog_tools(env: dict[str, str]) -> None:
    gov = await governance(env)
    anna = gov.authenticate(env["ANNA_KEY"])
    tools = [CatalogTool(s, t, f"{s}__{t}") for s, t in TOOLS]
    assert anna.view is not None
    assert [t.exposed_name for t in anna.view.filter(tools)] == ["web__search", "docs__lookup", "github__get_issue"]
    assert anna.view.filter([FakeTool("web", "search")]) == [FakeTool("web", "search")]


async def test_group_endpoint_filter_stays_within_the_view(env: dict[str, str]) -> None:
    gov = await governance(env)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    readers = gov.group_filter(rahul, "readers")
    assert {t for t in TOOLS if readers(*t)} == {
        ("filesystem", "read_file"),
        ("filesystem", "read_dir"),
        ("time", "now"),
        ("time", "convert"),
    }
    github = gov.group_filter(rahul, "github")  # a real group outside rahul's view: empty
    assert not any(github(*t) for t in TOOLS)
    assert not any(gov.group_filter(rahul, "no-such-group")(*t) for t in TOOLS)


async def test_memo_is_bounded(env: dict[str, str]) -> None:
    gov = await governance(env)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    for i in range(70_000):
        rahul.allows("deploy", f"t{i}")
    assert rahul.allows("deploy", "staging")
    assert not rahul.allows("deploy", "rollback")
