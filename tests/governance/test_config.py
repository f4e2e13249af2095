"""Governance config: the issue's example parses; every mistake is reported at its key path."""

from __future__ import annotations

import json

import pytest

from mcp_gateway.config import GatewayConfig
from mcp_gateway.errors import ConfigError
from mcp_gateway.governance import hash_key

from .conftest import EXAMPLE, load

ISSUE_EXAMPLE = """
tool_groups:
  readers:  {tools: ["filesystem.read_*", "time.*"]}
  platform: {tools: ["deploy.*"], approval: review}
customers:
  acme: {budget: {limit: 5000, period: 1M}}
teams:
  backend: {customer: acme, tool_groups: [readers], budget: {limit: 2000, period: 1M}}
virtual_keys:
  rahul: {key: "${RAHUL_KEY}", team: backend, tool_groups: [platform],
          blocked_tools: ["deploy.rollback"], rate_limit: {requests: 60, period: 1m}}
"""


def problems(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load(text, env or {"K": "k" * 40})
    return dict(info.value.problems)


def test_issue_example_parses() -> None:
    config = load(ISSUE_EXAMPLE, {"RAHUL_KEY": "secret"})
    rahul = config.virtual_keys["rahul"]
    assert rahul.key == "secret"
    assert rahul.digest() == hash_key("secret")
    assert config.tool_groups["platform"].approval == "review"
    assert config.customers["acme"].all_budgets()[0].limit == 5000
    assert rahul.all_rate_limits()[0].requests == 60


def test_defaults_are_empty_and_valid() -> None:
    config = load("{}")
    assert config.tool_groups == {} and config.virtual_keys == {} and config.admin_key is None


def test_unknown_references_name_their_key_paths_all_at_once() -> None:
    found = problems("""
tool_groups:
  readers: {tools: ["time.*"]}
customers:
  acme: {tool_groups: [nope]}
teams:
  backend: {customer: globex, tool_groups: [readers, missing]}
virtual_keys:
  rahul: {key: "${K}", team: frontend, customer: initech, tool_groups: [ghost]}
""")
    assert found == {
        "customers.acme.tool_groups[0]": "unknown tool group 'nope' (known: readers)",
        "teams.backend.customer": "unknown customer 'globex'",
        "teams.backend.tool_groups[1]": "unknown tool group 'missing' (known: readers)",
        "virtual_keys.rahul.tool_groups[0]": "unknown tool group 'ghost' (known: readers)",
        "virtual_keys.rahul.team": "unknown team 'frontend'",
        "virtual_keys.rahul.customer": "unknown customer 'initech'",
    }


def test_key_customer_must_match_its_team() -> None:
    found = problems("""
customers: {acme: {}, globex: {}}
teams: {backend: {customer: acme}}
virtual_keys:
  rahul: {key: "${K}", team: backend, customer: globex}
""")
    assert found == {"virtual_keys.rahul.customer": "team 'backend' belongs to customer 'acme', not 'globex'"}


def test_error_message_carries_file_and_path() -> None:
    with pytest.raises(ConfigError) as info:
        load("virtual_keys: {rahul: {key: x, team: backend}}")
    assert str(info.value) == "test.yaml: virtual_keys.rahul.team: unknown team 'backend'"


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("virtual_keys: {k: {team: t}}", "virtual_keys.k", "exactly one of 'key'"),
        ("virtual_keys: {k: {key: a, key_hash: 'sha256:" + "0" * 64 + "'}}", "virtual_keys.k", "exactly one"),
        ("virtual_keys: {k: {key_hash: 'md5:abc'}}", "virtual_keys.k.key_hash", "sha256:"),
        ("virtual_keys: {k: {key: ''}}", "virtual_keys.k.key", "at least 1 character"),
        ("virtual_keys: {k: {key: a, colour: red}}", "virtual_keys.k.colour", "unknown key"),
        (
            "virtual_keys: {k: {key: a, rate_limit: {requests: 5, period: 2x}}}",
            "virtual_keys.k.rate_limit.period",
            "invalid period '2x'",
        ),
        ("virtual_keys: {k: {key: a, rate_limit: {period: 1m}}}", "virtual_keys.k.rate_limit", "'requests', 'tokens'"),
        (
            "virtual_keys: {k: {key: a, budget: {limit: 0, period: 1M}}}",
            "virtual_keys.k.budget.limit",
            "greater than 0",
        ),
        (
            "virtual_keys: {k: {key: a, budget: {limit: 5, period: 1M, alert_at: [80]}}}",
            "virtual_keys.k.budget.alert_at[0]",
            "fraction",
        ),
        (
            "virtual_keys: {k: {key: a, blocked_tools: [deploy]}}",
            "virtual_keys.k.blocked_tools[0]",
            "'<server>.<tool>'",
        ),
        ("virtual_keys: {'bad name': {key: a}}", "virtual_keys.bad name.[key]", "must start with a letter"),
        ("tool_groups: {g: {tools: ['a b.c']}}", "tool_groups.g.tools[0]", "server part"),
        ("tool_groups: {g: {tools: ['srv.my tool']}}", "tool_groups.g.tools[0]", "whitespace"),
        ("tool_groups: {g: {tools: ['x.*'], approval: maybe}}", "tool_groups.g.approval", "'auto', 'review'"),
        (
            "tool_groups: {g: {tools: ['x.*'], rate_limit: {requests: 0, period: 1m}}}",
            "tool_groups.g.rate_limit.requests",
            "greater than or equal to 1",
        ),
        (
            "tool_groups: {g: {tools: ['x.*'], tool_costs: {'x.y': -1}}}",
            "tool_groups.g.tool_costs.x.y",
            "greater than or equal to 0",
        ),
        ("customers: {c: {tool_groups: [g], extra: 1}}", "customers.c.extra", "unknown key"),
    ],
)
def test_field_errors_have_key_paths(text: str, path: str, fragment: str) -> None:
    found = problems(text)
    assert path in found, found
    assert fragment in found[path]


def test_duplicate_keys_are_refused() -> None:
    found = problems(f"""
virtual_keys:
  a: {{key: same-key}}
  b: {{key_hash: "{hash_key("same-key")}"}}
""")
    assert found == {"virtual_keys.b.key_hash": "the same key as virtual_keys.a; every key must be distinct"}


def test_admin_key_must_differ_from_virtual_keys() -> None:
    found = problems("admin_key: shared\nvirtual_keys: {a: {key: shared}}")
    assert found == {"admin_key": "admin_key must differ from every virtual key (equals virtual_keys.a)"}


def test_multiple_limits_and_budgets_merge() -> None:
    config = load("""
teams:
  t:
    rate_limit: {requests: 10, period: 1m}
    rate_limits: [{tokens: 1000, period: 1d}]
    budget: {limit: 1, period: 1d}
    budgets: [{limit: 20, period: 1M}]
""")
    team = config.teams["t"]
    assert [r.period for r in team.all_rate_limits()] == ["1m", "1d"]
    assert [b.period for b in team.all_budgets()] == ["1d", "1M"]


def test_keys_are_not_in_repr() -> None:
    config = load("admin_key: topsecret-admin\nvirtual_keys: {a: {key: topsecret-key}}")
    assert "topsecret" not in repr(config)


def test_json_schema_still_builds() -> None:
    schema = json.dumps(GatewayConfig.model_json_schema())
    assert "virtual_keys" in schema and "tool_groups" in schema


def test_fixture_example_is_valid(env: dict[str, str]) -> None:
    config = load(EXAMPLE, env)
    assert set(config.virtual_keys) == {"rahul", "anna", "bob"}
