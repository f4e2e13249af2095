"""A do-nothing MCP proxy: the gateway's server stack with none of the gateway in it.

uvicorn (with uvloop and httptools, as `mcp-gateway serve` runs) forwards every POST body to one
upstream URL with the gateway's own `Http1Pool` and returns the reply as it came. No identity,
catalog, governance, audit or validation. `gateway_latency.py` measures it beside the gateway so
the figures show how much of the added latency is the extra process hop itself on the machine at
hand, and how much is the gateway's own work.

    python -m benchmarks.passthrough UPSTREAM_URL PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.types import Receive, Scope, Send

from mcp_gateway.upstream.http1 import Http1Pool

_FORWARDED = (b"accept", b"content-type", b"authorization")


class Passthrough:
    """Forwards POST bodies (and the MCP routing headers) to `url`; answers 405 to other methods."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: Http1Pool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if self._pool is not None:
                await self._pool.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http" or scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 405, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {
            name.decode(): value.decode()
            for name, value in scope["headers"]
            if name in _FORWARDED or name.startswith(b"mcp-")
        }
        if self._pool is None:
            self._pool = Http1Pool(self._url, {})
        reply = await self._pool.post(body, headers)
        framing = ("transfer-encoding", "content-length")  # the body is whole now; uvicorn frames it anew
        out = [(name.encode(), value.encode()) for name, value in reply.headers.items() if name not in framing]
        out.append((b"content-length", b"%d" % len(reply.body)))
        await send({"type": "http.response.start", "status": reply.status, "headers": out})
        await send({"type": "http.response.body", "body": reply.body})


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(Passthrough(url), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
