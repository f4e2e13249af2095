"""The MCP conformance suite (server mode) against the gateway in front of the reference fixture server.

Every server scenario of `@modelcontextprotocol/conformance` (`--suite all`, pending ones included)
must pass, or be listed with its reason in `expected-failures.yaml`. The suite also runs directly
against the fixture server (baseline `expected-failures-direct.yaml`), so a failure through the
gateway can be told apart from one of the fixture or the SDK.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.conformance import (
    CONFORMANCE_DIR,
    EXPECTED_FAILURES,
    ConformanceRun,
    list_server_scenarios,
    load_expected_failures,
    run_conformance,
)
from tests.fixtures.gateway import GatewayHandle
from tests.fixtures.npm import ROOT
from tests.fixtures.processes import free_port, running, start_process, wait_for_port

pytestmark = [pytest.mark.npm, pytest.mark.slow]

EXPECTED_FAILURES_DIRECT = CONFORMANCE_DIR / "expected-failures-direct.yaml"
FIXTURE_MODULE = "tests.fixtures.conformance_server"

UPSTREAMS: dict[str, dict[str, Any]] = {
    "stdio": {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", FIXTURE_MODULE],
        "cwd": str(ROOT),
        "namespace": False,
    },
    "inprocess": {"transport": "inprocess", "target": f"{FIXTURE_MODULE}:mcp", "namespace": False},
}
"""The fixture server as the gateway's upstream; `namespace: false` keeps the suite's tool names."""


def _report(run: ConformanceRun, path: Path) -> str:
    summary = run.summary()
    path.write_text(summary + "\n")
    return summary


@pytest.mark.parametrize("baseline", [EXPECTED_FAILURES, EXPECTED_FAILURES_DIRECT], ids=lambda p: p.name)
def test_expected_failures_file_is_valid(baseline: Path) -> None:
    """Each listed scenario exists in the installed suite, once, with a non-empty reason."""
    server, reasons = load_expected_failures(baseline)
    known = set(list_server_scenarios())
    assert known, "`conformance list --server` listed no scenarios"
    assert sorted(set(server) - known) == [], f"{baseline.name}: not scenarios of the installed suite"
    assert len(server) == len(set(server)), f"{baseline.name}: duplicate entries"
    assert sorted(set(server) - set(reasons)) == [], f"{baseline.name}: entries without a reason"
    assert sorted(set(reasons) - set(server)) == [], f"{baseline.name}: reasons for unlisted scenarios"
    assert all(reasons.values()), f"{baseline.name}: empty reasons"


@pytest.fixture(scope="module")
def fixture_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The conformance fixture server alone, over Streamable HTTP on loopback."""
    port = free_port()
    logs = tmp_path_factory.mktemp("conformance-fixture")
    argv = [sys.executable, "-m", FIXTURE_MODULE, "--http", str(port)]
    with running(start_process("conformance-fixture", argv, log_dir=logs, cwd=ROOT)) as process:
        wait_for_port(port, timeout=30.0, abort=process.exit_reason)
        yield f"http://127.0.0.1:{port}/mcp"


def test_fixture_server_directly(fixture_server_url: str, tmp_path: Path) -> None:
    """Without the gateway, the fixture server passes everything but its listed baseline."""
    results = tmp_path / "results"
    run = run_conformance(fixture_server_url, results, expected_failures=EXPECTED_FAILURES_DIRECT)
    summary = _report(run, tmp_path / "summary.txt")
    assert run.results, f"no scenario results were written\n{summary}"
    code = run.returncode
    assert code == 0, summary


@pytest.mark.parametrize("upstream", sorted(UPSTREAMS))
def test_conformance_through_gateway(
    upstream: str, gateway_server: Callable[..., GatewayHandle], tmp_path: Path
) -> None:
    """Through the gateway, every scenario passes or is in expected-failures.yaml with its reason."""
    gateway = gateway_server({"servers": {"conf": UPSTREAMS[upstream]}})
    run = run_conformance(
        gateway.mcp_url, tmp_path / "results", headers=gateway.headers, expected_failures=EXPECTED_FAILURES
    )
    summary = _report(run, tmp_path / "summary.txt")
    assert run.results, f"no scenario results were written\n{summary}\n{gateway.process.log_tail()}"
    code = run.returncode
    assert code == 0, f"{summary}\n{gateway.process.log_tail(60)}"
