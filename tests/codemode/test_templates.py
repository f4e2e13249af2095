"""Every word comes from stubs_templates/: swapping the directory changes the wording."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcp_gateway.codemode import CodeMode
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.config.models import CodeModeSettings
from stubs_templates import TEMPLATES_DIR

from .conftest import FakeInvoker, FakeSandbox, make_ctx, text_of, tool


def test_templates_dir_is_shipped_as_package_data() -> None:
    names = {p.name for p in TEMPLATES_DIR.iterdir()}
    assert {"server_file.pyi.j2", "tool_file.pyi.j2", "listing.j2", "messages.j2", "meta_tools.j2"} <= names
    assert "README.md" in names


@pytest.mark.parametrize("kind", ["syntax", "runtime", "limit", "tool", "internal", "other"])
def test_every_error_kind_has_a_hint(kind: str) -> None:
    assert Texts().message("hint", kind=kind, message="something odd")


def test_every_meta_tool_and_parameter_has_a_description(code_mode: CodeMode) -> None:
    for t in code_mode.meta_tools():
        assert t.description
        for prop in t.input_schema["properties"].values():
            assert prop["description"]


async def test_wording_changes_without_code(tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, custom)
    listing = custom / "listing.j2"
    listing.write_text(listing.read_text().replace("Workflow:", "How to work:"))
    meta = custom / "meta_tools.j2"
    meta.write_text(meta.read_text().replace("List the stub files", "Show the stub files"))
    code_mode = CodeMode(
        settings=CodeModeSettings(),
        sandbox=FakeSandbox(),
        invoker=FakeInvoker(),
        binding_for=lambda _: "server",
        templates_dir=custom,
    )
    result = await code_mode.call("listToolFiles", {}, make_ctx([tool("s", "t")]), call_id="c")
    assert "How to work:" in text_of(result)
    described = {t.name: t.description for t in code_mode.meta_tools()}
    assert (described["listToolFiles"] or "").startswith("Show the stub files")


def test_engine_specific_wording() -> None:
    go = CodeModeSettings.model_validate({"sandbox": {"engine": "go"}})
    code_mode = CodeMode(settings=go, sandbox=FakeSandbox(), invoker=FakeInvoker(), binding_for=lambda _: "server")
    description = next(t.description for t in code_mode.meta_tools() if t.name == "executeToolCode") or ""
    assert "while or f-strings" in description


def test_every_template_compiles() -> None:
    Texts().check()
