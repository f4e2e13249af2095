"""The MCP conformance suite's CLIENT scenarios against the gateway's upstream client.

For each client scenario the suite starts its own test servers (authorization servers included)
and runs `tests/fixtures/conformance_client.py` with the server URL; that command configures one
upstream the way a gateway user would, logs in through the gateway's `UpstreamAuth`, and calls a
tool through the gateway's `Upstream` supervisor. Every scenario must pass or be listed, with its
reason, in `expected-failures-client.yaml`.

The suite's servers listen on every interface, so each run happens in a loopback-only network
namespace (`unshare -n`); without the privilege for that the test is skipped. Scenarios run one at
a time: `sse-retry` checks reconnect timing to 200 ms, which parallel runs on two cores miss.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.fixtures.conformance import CONFORMANCE_DIR, conformance_env
from tests.fixtures.npm import ROOT, npm_bin

pytestmark = [pytest.mark.npm, pytest.mark.slow]

EXPECTED = CONFORMANCE_DIR / "expected-failures-client.yaml"
CLIENT_COMMAND = f"env PYTHONPATH={ROOT} {sys.executable} -m tests.fixtures.conformance_client"
_SCENARIO = re.compile(r"^\s+-\s+(?P<name>[a-z0-9][a-z0-9_/-]*)(?:\s+\[.*\])?\s*$")


@cache
def _client_scenarios() -> tuple[str, ...]:
    argv = [str(npm_bin("conformance")), "list", "--client"]
    env = conformance_env("http://127.0.0.1")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)
    return tuple(m["name"] for line in done.stdout.splitlines() if (m := _SCENARIO.match(line)))


def _expected() -> tuple[list[str], dict[str, str]]:
    data = yaml.safe_load(EXPECTED.read_text())
    return list(data.get("client") or []), dict(data.get("reasons") or {})


def _loopback_namespace() -> list[str]:
    """The argv prefix that runs a command in a fresh network namespace with only `lo` up."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode:
        pytest.skip(
            "`unshare -n` is not available here (needs CAP_SYS_ADMIN): the suite's servers must stay off the network"
        )
    return [unshare, "-n", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"]


def test_client_expected_failures_file_is_valid() -> None:
    """Each listed scenario exists, once, with a non-empty reason; no reason without an entry."""
    listed, reasons = _expected()
    known = set(_client_scenarios())
    assert known, "`conformance list --client` listed no scenarios"
    assert sorted(set(listed) - known) == []
    assert len(listed) == len(set(listed))
    assert sorted(set(listed) ^ set(reasons)) == []
    assert all(reasons.values())


def _run(scenario: str, out: Path) -> list[dict[str, object]]:
    argv = [
        *_loopback_namespace(),
        str(npm_bin("conformance")),
        "client",
        "--command",
        CLIENT_COMMAND,
        "--scenario",
        scenario,
        "-o",
        str(out),
    ]
    subprocess.run(
        argv,
        env=conformance_env("http://127.0.0.1"),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )
    found = sorted(out.rglob("checks.json"))
    assert found, f"{scenario}: the suite wrote no checks (see {out})"
    checks: list[dict[str, object]] = json.loads(found[-1].read_text())
    return checks


def test_client_scenarios(tmp_path: Path) -> None:
    """Exactly the listed scenarios fail (a FAILURE or WARNING); a listed one that passes is stale."""
    listed, _ = _expected()
    failed: dict[str, list[str]] = {}
    for scenario in _client_scenarios():
        checks = _run(scenario, tmp_path / scenario.replace("/", "_"))
        problems = [f"{c.get('status')} {c.get('id')}" for c in checks if c.get("status") in ("FAILURE", "WARNING")]
        if problems:
            failed[scenario] = problems
    unexpected = {s: p for s, p in failed.items() if s not in listed}
    stale = sorted(set(listed) - set(failed))
    assert unexpected == {}, f"failures not in {EXPECTED.name}: {unexpected}"
    assert stale == [], f"listed in {EXPECTED.name} but passing now (remove them): {stale}"
