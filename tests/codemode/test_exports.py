"""The package's public API is what `__all__` says."""

from __future__ import annotations

from mcp_gateway import codemode


def test_exported_members() -> None:
    assert sorted(codemode.__all__) == ["Binding", "BindingFor", "CodeMode", "META_TOOL_NAMES"]
    for name in codemode.__all__:
        assert getattr(codemode, name) is not None
    assert codemode.CodeMode.META_TOOL_NAMES is codemode.META_TOOL_NAMES
