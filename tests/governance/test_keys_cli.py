"""`mcp-gateway keys ...` through a parser built the way the main CLI builds it."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import anyio
import pytest

from mcp_gateway.governance import SQLiteKeyStore, hash_key
from mcp_gateway.governance.keys_cli import register_keys_commands

CONFIG = """
tool_groups:
  readers: {tools: ["time.*"]}
teams:
  backend: {tool_groups: [readers]}
virtual_keys:
  rahul: {key_hash: "sha256:%s"}
""" % ("0" * 64)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mcp-gateway")
    register_keys_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG)
    return ["--config", str(config), "--db", str(tmp_path / "keys.db")]


async def stored(db: str) -> list[str]:
    store = SQLiteKeyStore(db)
    try:
        return [f"{r.name}:{r.status}" for r in await store.list()]
    finally:
        await store.aclose()


def test_create_list_revoke(paths: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keys", *paths, "create", "zoe", "--team", "backend", "--allow", "github.get_*", "--json") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["key"].startswith("mcpg_") and created["name"] == "zoe"

    assert run("keys", *paths, "list") == 0
    table = capsys.readouterr().out
    assert "zoe" in table and "rahul" in table and created["key"] not in table

    assert run("keys", *paths, "disable", "zoe") == 0  # a live key's name works as well as its id
    assert "disabled" in capsys.readouterr().out
    assert run("keys", *paths, "revoke", created["id"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert run("keys", *paths, "list", "--json") == 0
    assert [k["name"] for k in json.loads(capsys.readouterr().out)] == ["rahul"]
    assert run("keys", *paths, "list", "--all", "--json") == 0
    assert {k["name"]: k["status"] for k in json.loads(capsys.readouterr().out)} == {
        "rahul": "active",
        "zoe": "revoked",
    }


def test_plain_create_prints_the_key_once(paths: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keys", *paths, "create", "amy") == 0
    captured = capsys.readouterr()
    assert captured.out.count("mcpg_") == 1 and "shown once" in captured.err
    assert anyio.run(stored, paths[3]) == ["amy:active"]


def test_errors_have_exit_codes(paths: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keys", *paths, "create", "x", "--team", "nope") == 2
    assert "unknown team 'nope'" in capsys.readouterr().err
    assert run("keys", *paths, "revoke", "key_missing") == 1
    assert "no key with id" in capsys.readouterr().err
    assert run("keys", *paths, "revoke", "config:rahul") == 1
    assert "defined in the config file" in capsys.readouterr().err


def test_hash(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("keys", "hash", "abc") == 0
    assert capsys.readouterr().out.strip() == hash_key("abc")
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    assert run("keys", "hash") == 0
    assert capsys.readouterr().out.strip() == hash_key("from-stdin")


def test_custom_resolver_replaces_the_options(tmp_path: Path) -> None:
    from mcp_gateway.config import parse_config

    parser = argparse.ArgumentParser()
    keys = register_keys_commands(
        parser.add_subparsers(dest="command"),
        resolve=lambda args: (parse_config({}, "x"), tmp_path / "k.db"),
    )
    assert "--db" not in keys.format_help()
    args = parser.parse_args(["keys", "create", "solo"])
    assert args.func(args) == 0
