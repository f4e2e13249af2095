"""The servers the fixtures start stay on loopback (npm HTTP servers would otherwise bind all)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.fixtures.processes import listening_addresses


@pytest.mark.npm
@pytest.mark.parametrize("fixture", ["everything_http_url", "everything_sse_url"])
def test_npm_http_servers_listen_on_loopback_only(fixture: str, request: pytest.FixtureRequest) -> None:
    """The loopback.cjs preload turns server-everything's host-less listen() into 127.0.0.1."""
    port = urlsplit(request.getfixturevalue(fixture)).port
    assert port is not None
    assert listening_addresses(port) == {"127.0.0.1"}


def test_redis_listens_on_loopback_only(redis_url: str) -> None:
    """The throwaway Redis binds 127.0.0.1 and answers PING."""
    import socket

    parts = urlsplit(redis_url)
    assert parts.port is not None
    assert listening_addresses(parts.port) == {"127.0.0.1"}
    with socket.create_connection(("127.0.0.1", parts.port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(64).startswith(b"+PONG")
