"""Shared pytest fixtures: npm MCP servers, the real gateway as a subprocess, helpers.

Fixtures (helpers behind them live in `tests/fixtures/`):

- `npm_bin(name) -> Path`: `tests/npm/node_modules/.bin/<name>`; skips when the npm packages are
  not installed, fails instead when `CI` is set.
- `everything_stdio -> StdioCommand`: command + args that start server-everything over stdio
  (`.server_config()` gives the gateway config entry).
- `everything_http_url -> str`: server-everything `streamableHttp` on a free loopback port, URL
  ending in `/mcp` (session-scoped; one process shared by the session).
- `everything_sse_url -> str`: server-everything `sse` on a free loopback port, URL ending in `/sse`.
- `gateway_server(config: dict, **kw) -> GatewayHandle`: starts `mcp-gateway serve` with `config`,
  ready once `/healthz` and `/readyz` answer 200; stopped with SIGTERM at test end (must exit
  within 10 s and leave no child behind).
- `npm_log_dir -> Path`: where session-scoped npm servers write their logs.
- `redis_url -> str`: a session-wide `redis-server` on a free loopback port, no persistence
  (`redis://127.0.0.1:PORT/0`); skips without redis-server, fails instead in CI.
- `postgres_server -> PostgresServer`: a session-wide PostgreSQL on a free loopback port (`.url`;
  `tests.fixtures.postgres.create_database(server)` gives a test its own database); skips without
  PostgreSQL, fails instead in CI.

Plain helpers: `tests.fixtures.processes.free_port()`, `descendants(pid)`;
`tests.fixtures.everything.start_everything(mode, log_dir)` for tests that need their own
(killable) server-everything.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `tests.fixtures` must import however pytest was started
    sys.path.insert(0, str(_ROOT))

from tests.fixtures.everything import StdioCommand, everything_stdio_command, start_everything  # noqa: E402
from tests.fixtures.gateway import GatewayHandle, start_gateway  # noqa: E402
from tests.fixtures.npm import npm_bin as _npm_bin  # noqa: E402
from tests.fixtures.postgres import PostgresServer, start_postgres  # noqa: E402
from tests.fixtures.redis import start_redis  # noqa: E402

GatewayFactory = Callable[..., GatewayHandle]


@pytest.fixture(scope="session")
def npm_bin() -> Callable[[str], Path]:
    """The `npm_bin(name) -> Path` helper (skips, or fails in CI, when the package is missing)."""
    return _npm_bin


@pytest.fixture(scope="session")
def npm_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Log directory of the session's npm servers."""
    return tmp_path_factory.mktemp("npm-servers")


@pytest.fixture(scope="session")
def everything_stdio() -> StdioCommand:
    """How to start server-everything over stdio (the caller starts it)."""
    return everything_stdio_command()


@pytest.fixture(scope="session")
def everything_http_url(npm_log_dir: Path) -> Iterator[str]:
    """URL (`http://127.0.0.1:PORT/mcp`) of a session-wide server-everything in streamableHttp mode."""
    with start_everything("streamableHttp", npm_log_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def everything_sse_url(npm_log_dir: Path) -> Iterator[str]:
    """URL (`http://127.0.0.1:PORT/sse`) of a session-wide server-everything in legacy SSE mode."""
    with start_everything("sse", npm_log_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a session-wide throwaway Redis on loopback (tests must not rely on it being empty)."""
    with start_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A session-wide throwaway PostgreSQL on loopback; tests create their own databases in it."""
    with start_postgres() as server:
        yield server


@pytest.fixture
def gateway_server(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Factory: `gateway_server(config, **kw)` starts the real gateway and returns its handle.

    `config` is the YAML document as a dict (`servers: {...}`, optional `gateway: {...}`);
    keyword arguments go to `tests.fixtures.gateway.start_gateway` (`env`, `ready_timeout`,
    `stop_timeout`, `check_orphans`). Every gateway started is stopped at the end of the test.
    """
    with ExitStack() as stack:
        count = 0

        def start(config: dict[str, Any], **kwargs: Any) -> GatewayHandle:
            nonlocal count
            count += 1
            kwargs.setdefault("name", f"gateway-{count}")
            return stack.enter_context(start_gateway(config, tmp_path, **kwargs))

        yield start
