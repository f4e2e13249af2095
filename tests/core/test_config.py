"""Configuration: interpolation, validation errors with file and key path, and the CLI around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_gateway.cli import main
from mcp_gateway.config import bundled_config_path, load_config, parse_config
from mcp_gateway.config.interpolate import MissingVariable, interpolate
from mcp_gateway.config.models import HttpServer, StdioServer
from mcp_gateway.errors import ConfigError


def test_interpolation_of_variables_and_defaults() -> None:
    env = {"TOKEN": "s3cret", "EMPTY": ""}
    data = {
        "a": "${TOKEN}",
        "b": ["x-${TOKEN}-y", "${MISSING:-fallback}"],
        "c": "${EMPTY:-dflt}",
        "d": "$${TOKEN}",
    }
    assert interpolate(data, env) == {
        "a": "s3cret",
        "b": ["x-s3cret-y", "fallback"],
        "c": "dflt",
        "d": "${TOKEN}",
    }
    with pytest.raises(MissingVariable) as info:
        interpolate({"servers": {"gh": {"headers": {"auth": "${NOPE}"}}}}, env)
    assert info.value.path == "servers.gh.headers.auth"


def test_interpolated_values_cannot_inject_structure() -> None:
    cfg = parse_config({"gateway": {"api_key": "${K}"}}, "t", env={"K": "a\nservers: {evil: 1}"})
    assert cfg.gateway.api_key == "a\nservers: {evil: 1}"
    assert cfg.servers == {}


def test_errors_name_file_and_key_path() -> None:
    raw = {
        "servers": {
            "github": {"transport": "http", "url": "ftp://x", "colour": "red"},
            "odd": {"transport": "carrier-pigeon"},
            "bare": {"command": "x"},
            "t": {"transport": "stdio"},
        },
        "gateway": {"port": "eighty"},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "gw.yaml")
    problems = dict(info.value.problems)
    assert "should match pattern" in problems["servers.github.url"]
    assert problems["servers.github.colour"] == "unknown key"
    assert "unknown transport 'carrier-pigeon'" in problems["servers.odd"]
    assert "missing 'transport'" in problems["servers.bare"]
    assert problems["servers.t.command"] == "Field required"
    assert "gateway.port" in problems
    assert str(info.value).startswith("gw.yaml: ")


def test_missing_variable_is_a_config_error_with_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"gateway": {"api_key": "${UNSET_FOR_TEST}"}}, "gw.yaml", env={})
    assert info.value.problems == [
        (
            "gateway.api_key",
            "environment variable UNSET_FOR_TEST is not set (use ${UNSET_FOR_TEST:-default} for a default)",
        )
    ]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("servers:\n  time: {transport: stdio\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "invalid YAML: line" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["a__b", "_x", "1abc", "has space", "x" * 33])
def test_server_names_that_cannot_be_namespaces_are_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"servers": {name: {"transport": "stdio", "command": "x"}}}, "gw.yaml")
    assert info.value.problems[0][0] == "servers"
    assert name in info.value.problems[0][1]


def test_the_example_shape_from_the_docs_parses() -> None:
    cfg = parse_config(
        {
            "servers": {
                "time": {
                    "transport": "stdio",
                    "command": "mcp-server-time",
                    "args": ["--local-timezone", "UTC"],
                },
                "everything": {
                    "transport": "http",
                    "url": "http://127.0.0.1:3001/mcp",
                    "headers": {"X-Team": "a"},
                },
                "legacy": {"transport": "sse", "url": "http://127.0.0.1:3002/sse"},
                "demo": {"transport": "inprocess", "target": "examples.demo_server:mcp"},
            }
        },
        "gw.yaml",
    )
    assert isinstance(cfg.servers["time"], StdioServer)
    assert isinstance(cfg.servers["everything"], HttpServer)
    assert cfg.servers["everything"].headers == {"X-Team": "a"}
    assert load_config(bundled_config_path()).servers


def test_check_command_exits_2_and_prints_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "gw.yaml"
    bad.write_text("servers:\n  gh: {transport: http, url: 'ftp://nope'}\n")
    assert main(["check", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: servers.gh.url:" in err

    good = tmp_path / "ok.yaml"
    good.write_text("servers:\n  t: {transport: stdio, command: mcp-server-time}\n")
    assert main(["check", "--config", str(good)]) == 0
    assert "OK (1 server(s): t)" in capsys.readouterr().out


def test_schema_command_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"servers", "gateway", "code_mode"} <= set(schema["properties"])


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_strings_without_dollar_pass_through(text: str) -> None:
    if "$" not in text:
        assert interpolate({"k": text}, {}) == {"k": text}
