"""Redaction: secret names hidden at any depth by default, configured field rules per tool, results
in their MCP shape, and nothing else altered."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mcp_gateway.config.logging import RedactSettings
from mcp_gateway.observability import REDACTED, Redactor, trim
from mcp_gateway.observability.redact import PARSE_LIMIT

ARGS: dict[str, Any] = {
    "query": "select 1",
    "password": "hunter2",
    "config": {
        "Authorization": "Bearer abc",
        "X-Api-Key": "k-123",
        "retries": 3,
        "nested": [{"github_token": "ghp_x", "max_tokens": 100, "token_count": 7}, {"client_secret": {"a": 1}}],
    },
    "cookie": ["a=b"],
    "db_password": "p",
    "refreshToken": "r",
    "oauth_scope": "read",
}


def test_default_names_hide_secrets_anywhere_and_nothing_else() -> None:
    original = copy.deepcopy(ARGS)
    out = Redactor().redact("db", "run", ARGS)
    assert original == ARGS  # the input is never modified
    assert out == {
        "query": "select 1",
        "password": REDACTED,
        "config": {
            "Authorization": REDACTED,
            "X-Api-Key": REDACTED,
            "retries": 3,
            "nested": [{"github_token": REDACTED, "max_tokens": 100, "token_count": 7}, {"client_secret": REDACTED}],
        },
        "cookie": REDACTED,
        "db_password": REDACTED,
        "refreshToken": REDACTED,
        "oauth_scope": "read",
    }


def test_values_without_secrets_come_back_as_the_same_object() -> None:
    value = {"a": [1, {"b": "c"}], "d": None}
    assert Redactor().redact("s", "t", value) is value
    text = '{"a": 1,   "b": [2]}'
    assert Redactor().redact("s", "t", text) is text  # not even re-serialised
    assert Redactor().redact("s", "t", "plain text with password=1") == "plain text with password=1"


def test_default_names_can_be_turned_off_and_extended() -> None:
    off = Redactor(RedactSettings(default_names=False))
    assert off.redact("s", "t", {"password": "x"}) == {"password": "x"}
    more = Redactor(RedactSettings(names=["ssn"]))
    assert more.redact("s", "t", {"ssn": 1, "user": {"SSN": 2}, "password": 3}) == {
        "ssn": REDACTED,
        "user": {"SSN": REDACTED},
        "password": REDACTED,
    }


RULES = RedactSettings(
    rules=[
        {"tool": "crm__*", "fields": ["customer.email", "items[*].card", "headers.x-auth"]},
        {"tool": "hr.get_employee", "fields": ["salary", "history[0]", "*.phone"]},
    ]
)


@pytest.mark.parametrize(
    ("server", "tool", "value", "expected"),
    [
        (
            "crm",
            "find",
            {"customer": {"email": "a@b", "name": "Ann"}, "items": [{"card": 4111, "sku": 1}, {"sku": 2}]},
            {"customer": {"email": REDACTED, "name": "Ann"}, "items": [{"card": REDACTED, "sku": 1}, {"sku": 2}]},
        ),
        (
            "crm",
            "find",
            {"headers": {"X-Auth": "z", "Accept": "json"}},
            {"headers": {"X-Auth": REDACTED, "Accept": "json"}},
        ),
        ("crmx", "find", {"customer": {"email": "a@b"}}, {"customer": {"email": "a@b"}}),  # glob does not match
        (
            "hr",
            "get_employee",
            {"salary": 1, "history": ["old", "older"], "home": {"phone": "1"}, "work": {"phone": "2", "desk": 3}},
            {
                "salary": REDACTED,
                "history": [REDACTED, "older"],
                "home": {"phone": REDACTED},
                "work": {"phone": REDACTED, "desk": 3},
            },
        ),
        ("hr", "list", {"salary": 1}, {"salary": 1}),
        ("crm", "find", {"items": "not a list", "customer": None}, {"items": "not a list", "customer": None}),
    ],
)
def test_field_rules_per_tool(server: str, tool: str, value: Any, expected: Any) -> None:
    assert Redactor(RULES).redact(server, tool, value) == expected


def test_results_redact_structured_content_and_json_text() -> None:
    result = {
        "content": [
            {"type": "text", "text": json.dumps({"customer": {"email": "a@b"}, "token": "t", "ok": True})},
            {"type": "text", "text": "not json: password=1"},
            {"type": "image", "data": "AAAA", "mimeType": "image/png"},
        ],
        "structuredContent": {"customer": {"email": "a@b", "id": 7}},
        "isError": False,
    }
    out = Redactor(RULES).redact("crm", "find", result)
    assert json.loads(out["content"][0]["text"]) == {"customer": {"email": REDACTED}, "token": REDACTED, "ok": True}
    assert out["content"][1:] == result["content"][1:]
    assert out["structuredContent"] == {"customer": {"email": REDACTED, "id": 7}}
    assert out["isError"] is False
    assert result["structuredContent"]["customer"]["email"] == "a@b"  # input untouched
    # The same result as JSON text, the way it is stored:
    text, size = Redactor(RULES).result_text("crm", "find", json.dumps(result), limit=100_000)
    assert json.loads(text) == out and size == len(text.encode())


def test_trim_cuts_on_a_character_boundary_and_reports_the_full_size() -> None:
    assert trim("abc", 10) == ("abc", 3)
    assert trim("abcdef", 4) == ("abcd", 6)
    text, size = trim("ééé", 3)  # 6 bytes; the second é would be cut in half
    assert (text, size) == ("é", 6)
    text, size = Redactor().result_text("s", "t", {"content": [{"type": "text", "text": "x" * 100}]}, limit=20)
    assert len(text.encode()) <= 20 and size > 100


def test_bad_field_paths_are_config_errors() -> None:
    with pytest.raises(ValueError, match="field path"):
        RedactSettings(rules=[{"tool": "*", "fields": ["a..b"]}])


def test_truncated_and_oversized_json_text_still_hides_secret_pairs() -> None:
    truncated = '{"user": "ann", "password": "p\\"w", "token": 12, "max_tokens": 5, "nested": {"api_key": "k'
    assert Redactor().redact("s", "t", truncated) == (
        '{"user": "ann", "password": "[REDACTED]", "token": "[REDACTED]", "max_tokens": 5, '
        '"nested": {"api_key": "[REDACTED]"'
    )  # even the value cut off at the end
    rows = ",".join(f'{{"id": {i}, "secret": "s{i}"}}' for i in range(PARSE_LIMIT // 20))
    big = '{"rows": [' + rows + "]}"
    assert len(big) > PARSE_LIMIT
    out = Redactor().redact("s", "t", big)
    assert '"secret": "s7"' not in out and out.count(REDACTED) == PARSE_LIMIT // 20
    assert json.loads(out)["rows"][3] == {"id": 3, "secret": REDACTED}
