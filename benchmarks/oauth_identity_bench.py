"""Per-request cost of authenticating on /mcp: a virtual key with OAuth off and on, and an access token.

Calls `IdentityMiddleware` directly (no HTTP) around a no-op app, best of 5 rounds.

    python benchmarks/oauth_identity_bench.py [--requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from contextlib import AsyncExitStack

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_gateway.config import parse_config
from mcp_gateway.config.oauth_server import OAuthServerSettings
from mcp_gateway.governance import Governance, MemoryKeyStore
from mcp_gateway.server.identity import IdentityMiddleware
from mcp_gateway.server.oauth import OAuthServer
from mcp_gateway.server.oauth.records import Grant


async def _noop(scope: Scope, receive: Receive, send: Send) -> None:
    return None


async def _time(app: ASGIApp, credential: str, requests: int) -> float:
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"authorization", f"Bearer {credential}".encode()),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
    ]
    scope: Scope = {"type": "http", "path": "/mcp", "headers": headers}
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(requests):
            await app(scope, None, None)  # type: ignore[arg-type]
        best = min(best, (time.perf_counter() - start) / requests)
    return best


async def main(requests: int) -> None:
    logging.disable(logging.WARNING)
    config = parse_config({"virtual_keys": {"alice": {"key": "alice-key"}}}, "bench")
    governance = await Governance.from_config(config, key_store=MemoryKeyStore())
    oauth = OAuthServer(OAuthServerSettings(enabled=True))
    async with AsyncExitStack() as stack:
        await oauth.start(None, governance, stack)
        authenticate = oauth.authenticator(governance.authenticate)
        token = await oauth.provider._issue(Grant("bench", "client", "alice", "config:alice", ("mcp",)))
        cases = {
            "virtual key, oauth off": (IdentityMiddleware(_noop, lambda: governance.authenticate), "alice-key"),
            "virtual key, oauth on": (oauth.protect(_noop, lambda: authenticate), "alice-key"),
            "oauth access token": (oauth.protect(_noop, lambda: authenticate), token.access_token),
        }
        for name, (app, credential) in cases.items():
            print(f"{name:24s} {await _time(app, credential, requests) * 1e6:6.2f} us/request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().requests))
