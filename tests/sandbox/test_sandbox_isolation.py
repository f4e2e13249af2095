"""What a script cannot reach: files, network, imports, the host's internals, the environment."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from sandbox_helpers import FakeHost, run

from sandbox import HostCallRequest, WorkerPool, create_sandbox


@pytest.mark.parametrize(
    "code",
    [
        'open("/etc/passwd")',
        'load("//secrets.star", "token")',
        "import os",
        "from os import system",
        '__import__("os")',
        'exec("1")',
        'eval("1")',
        "globals()",
        "vars()",
        "compile",
        "socket",
        "while True:\n    pass",
        "class X:\n    pass",
        "try:\n    pass\nexcept:\n    pass",
    ],
)
async def test_no_files_network_imports_or_dynamic_code(sandbox: WorkerPool, code: str) -> None:
    host = FakeHost()
    result = await run(sandbox, code, host)
    assert result.error is not None, f"{code!r} ran"
    assert result.error.kind in {"syntax", "runtime"}
    assert host.calls == []


@pytest.mark.parametrize(
    "code",
    [
        "github.__class__",
        "github.__dict__",
        "github.echo.__globals__",
        "github.echo.__closure__",
        'getattr(github, "__class__")',
        'getattr(github.echo, "__globals__")',
        '"".__class__',
        "type(github).__mro__",
        "[].__class__.__base__",
        "print.__self__",
        "json_decode.__module__",
        '_sandbox_host(json_encode(["raise", [{"obj": "os", "method": "system", "args": [], "kwargs": {}}]]))',
        '_sandbox_host("raise", [{"obj": "os", "method": "system", "args": [], "kwargs": {}}])',
    ],
)
async def test_no_escape_through_attributes(sandbox: WorkerPool, code: str) -> None:
    host = FakeHost()
    result = await run(sandbox, code, host)
    assert result.error is not None, f"{code!r} gave {result.result!r}"
    assert host.calls == []


async def test_forged_host_calls_are_checked_against_bindings(sandbox: WorkerPool) -> None:
    """The machinery behind host methods is reachable, but only reaches bound methods."""
    host = FakeHost()
    forged = '{"obj": "admin", "method": "drop", "args": [], "kwargs": {}, "line": 1, "column": 1}'
    result = await run(sandbox, f"_sandbox_call([{forged}], 'raise')", host)
    assert result.error is not None and result.error.kind == "tool"
    assert "unknown host function admin.drop" in result.error.message
    assert host.calls == []


async def test_scripts_do_not_share_state(sandbox: WorkerPool) -> None:
    first = await run(sandbox, "leak = [1, 2, 3]\nleak")
    assert first.ok
    for _ in range(3):  # whichever worker takes it, `leak` is gone
        again = await run(sandbox, "leak")
        assert again.error is not None and again.error.kind == "syntax"


async def test_worker_environment_limits_and_descriptors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SECRET_TOKEN", "hunter2")
    leaked = tmp_path / "leaked.txt"
    fd = os.open(leaked, os.O_WRONLY | os.O_CREAT)
    os.set_inheritable(fd, True)  # a careless gateway descriptor must still not reach workers
    seen: dict[str, str] = {}

    async def host(call: HostCallRequest) -> object:
        proc = anyio.Path(f"/proc/{int(call.kwargs['pid'])}")
        seen["environ"] = (await (proc / "environ").read_bytes()).decode()
        seen["limits"] = await (proc / "limits").read_text()
        seen["fds"] = " ".join([str(await fd.readlink()) async for fd in (proc / "fd").iterdir()])
        seen["cwd"] = str(await (proc / "cwd").readlink())
        return None

    try:
        async with create_sandbox("pyo3", workers=1) as pool:
            [pid] = pool.worker_pids()
            with anyio.fail_after(20):
                result = await pool.run(f"probe.look(pid={pid})", bindings={"probe": frozenset({"look"})}, host=host)
            assert result.ok, result.error
    finally:
        os.close(fd)
    assert "hunter2" not in seen["environ"] and "PATH=" not in seen["environ"]
    assert str(leaked) not in seen["fds"]
    assert seen["cwd"] == "/"
    limits = {line[:26].strip(): line[26:].split() for line in seen["limits"].splitlines()[1:]}
    assert limits["Max core file size"][0] == "0"
    assert limits["Max address space"][0] != "unlimited"  # armed for the run
    assert limits["Max cpu time"][0] != "unlimited"


@pytest.mark.parametrize(
    "code",
    ["json_encode()", "json_decode()", "json_decode(1, 2)", "_sandbox_host()", "_sandbox_no_method()", "print()"],
)
async def test_misused_builtins_fail_cleanly(sandbox: WorkerPool, code: str) -> None:
    """Wrong arity on Python-backed builtins is a script error, never a worker crash."""
    result = await run(sandbox, code)
    assert result.error is None or result.error.kind in {"runtime", "syntax"}, result.error
    assert not result.stats.worker_killed
