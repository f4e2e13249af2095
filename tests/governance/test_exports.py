"""The package's public face: `__all__` is real, imports stay inside the shared layers, modules stay small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcp_gateway import governance

PACKAGE = Path(governance.__file__).parent


def test_all_names_exist() -> None:
    assert sorted(governance.__all__) == sorted(set(governance.__all__))
    for name in governance.__all__:
        assert getattr(governance, name) is not None, name


@pytest.mark.parametrize("first", ["mcp_gateway.config", "mcp_gateway.governance", "mcp_gateway.governance.keys_cli"])
def test_imports_work_in_any_order_and_pull_in_no_transport(first: str) -> None:
    code = (
        f"import {first}, mcp_gateway.config, mcp_gateway.governance, sys; "
        "bad = [m for m in sys.modules if m.startswith(('mcp_gateway.server', 'mcp_gateway.upstream', "
        "'mcp_gateway.codemode', 'llm_proxy', 'starlette', 'redis', 'mcp.'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes
