"""Start the gateway with a round's servers behind it, as users run it.

`gateway_config` writes the YAML a user would: replayed servers as stdio upstreams
(`python -m benchmarks.tokens.replay_server --server NAME`), the filesystem and SQLite servers as
the real npm packages on this run's workspace, every server in Code Mode or none. `running_gateway`
starts `mcp-gateway serve` on a free loopback port, waits until it is ready and stops it (and only
it, with its process group) afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx2
import yaml

from benchmarks.tokens.dataset import REAL_SERVERS, Round
from benchmarks.tokens.workspace import Workspace

__all__ = ["API_KEY", "NODE_BIN", "REPO_ROOT", "GatewayError", "RunningGateway", "gateway_config", "running_gateway"]

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = Path(__file__).resolve().parent / "node_modules" / ".bin"
API_KEY = "bench-key"
READY_TIMEOUT_S = 90.0

Mode = Literal["classic", "codemode"]


class GatewayError(RuntimeError):
    """The gateway did not start or is not installed."""


def _real_server(name: str, ws: Workspace) -> dict[str, Any]:
    binary = {"filesystem": "mcp-server-filesystem", "sqlite": "mcp-sqlite-server"}[name]
    path = NODE_BIN / binary
    if not path.exists():
        raise GatewayError(f"{path} is missing: run `npm ci --prefix benchmarks/tokens` first")
    arg = ws.files.resolve() if name == "filesystem" else ws.db.resolve()
    return {"transport": "stdio", "command": str(path), "args": [str(arg)], "cwd": str(ws.files.resolve())}


def gateway_config(
    rnd: Round, mode: Mode, ws: Workspace, *, binding: str = "server", port: int = 0, replay_all: bool = False
) -> dict[str, Any]:
    """The gateway config for one round in one mode."""
    servers: dict[str, Any] = {}
    for server in rnd.servers:
        if server.name in REAL_SERVERS and not replay_all:
            servers[server.name] = _real_server(server.name, ws)
        else:
            servers[server.name] = {
                "transport": "stdio",
                "command": sys.executable,
                "args": ["-m", "benchmarks.tokens.replay_server", "--server", server.file.stem],
                "cwd": str(REPO_ROOT),
                "env": {"BENCH_REPLAY_JOURNAL": str(ws.journal.resolve()), "PYTHONPATH": str(REPO_ROOT)},
            }
    return {
        "gateway": {"host": "127.0.0.1", "port": port, "api_key": API_KEY},
        "code_mode": {"enabled": mode == "codemode", "binding": binding},
        "servers": servers,
    }


@dataclass(frozen=True, slots=True)
class RunningGateway:
    """A started gateway: where to reach it and its log."""

    url: str
    api_key: str
    log: Path
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("mcp-gateway")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mcp_gateway"]


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise GatewayError(
                f"gateway exited with {proc.returncode}; log:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"{base}/readyz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.3)
    raise GatewayError(
        f"gateway not ready after {READY_TIMEOUT_S:.0f} s; log:\n{log.read_text(errors='replace')[-3000:]}"
    )


@contextlib.contextmanager
def running_gateway(config: dict[str, Any], workdir: Path) -> Iterator[RunningGateway]:
    """Run `mcp-gateway serve` with `config` until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = {**config, "gateway": {**config["gateway"], "port": port}}
    cfg = workdir / "gateway.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = workdir / "gateway.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    env["MCP_GATEWAY_DATA_DIR"] = str(workdir / "data")
    cmd = [*_command(), "serve", "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log)
        yield RunningGateway(f"{base}/mcp", config["gateway"]["api_key"], log, proc.pid)
    finally:
        # The gateway leads its own process group (start_new_session): signal that group only.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
