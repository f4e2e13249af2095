"""A small pooled HTTP/1.1 client: POST a body to one origin and read the whole reply.

The lean `tools/call` lane (`stateless_http.py`) needs exactly one thing from HTTP: send a
POST on a kept-alive connection and get the status, headers and body back. General clients pay
for much more on every request (cookie jars, redirects, tracing hooks, stream readers, several
event-loop turns per reply). Measured on this project's machines
(`python -m benchmarks.upstream_post_bench`), this client costs a fraction of aiohttp's CPU per
POST, and aiohttp a fraction of httpx2's; the figures are in docs/performance.md.

Parsing is httptools (llhttp, the parser uvicorn uses). Each connection is an asyncio protocol
that resolves one future per reply, so a call costs one write and one wake-up.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

__all__ = ["Http1Error", "Http1Pool", "Http1Response"]


class Http1Error(Exception):
    """No usable reply: the connection failed, closed early, or the reply was not HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class Http1Response:
    """A whole reply. Header names are lower-case; a repeated header keeps its last value."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; one request at a time."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._reply: asyncio.Future[Http1Response] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._headers_done = False
        self.closed = False
        self.keep_alive = True
        self.idle_since = time.monotonic()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Http1Error(f"malformed HTTP reply: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is not None and not self._reply.done():
            if self._headers_done and self._delimited_by_close():
                self._finish()
            else:
                reason = f": {exc}" if exc else ""
                self._fail(Http1Error(f"the upstream closed the connection before replying{reason}"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        self._finish()

    # used by the pool

    def send(self, data: bytes) -> asyncio.Future[Http1Response]:
        assert self._transport is not None
        self._reply = asyncio.get_running_loop().create_future()
        self._headers = {}
        self._body = []
        self._headers_done = False
        self._transport.write(data)
        return self._reply

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _delimited_by_close(self) -> bool:
        return "content-length" not in self._headers and "transfer-encoding" not in self._headers

    def _finish(self) -> None:
        reply = self._reply
        if reply is None or reply.done():
            return
        try:
            body = _decoded(self._headers.get("content-encoding", ""), b"".join(self._body))
        except Http1Error as exc:
            reply.set_exception(exc)
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim reply (100 Continue); the real one follows
            self._headers, self._body, self._headers_done = {}, [], False
            return
        self.idle_since = time.monotonic()
        reply.set_result(Http1Response(status, self._headers, body))

    def _fail(self, exc: Http1Error) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(exc)


def _decoded(encoding: str, body: bytes) -> bytes:
    """The body without its content coding (we ask for none, but a server may still use one)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(body, wbits=47)  # 32 + 15: gzip or zlib, detected from the header
        except zlib.error as exc:
            raise Http1Error(f"reply body is not valid {encoding}: {exc}") from exc
    raise Http1Error(f"reply uses content-encoding {encoding!r}, which this client does not decode")


def _header_lines(headers: dict[str, str] | list[tuple[str, str]]) -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = []
    for name, value in items:
        if any(c in name for c in "\r\n:") or "\r" in value or "\n" in value:
            raise ValueError(f"invalid HTTP header {name!r}")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1")


class Http1Pool:
    """Kept-alive connections to the origin of `url`; `post` sends one request on one of them.

    `headers` go on every request. Idle connections are reused newest first and dropped after
    `idle_timeout_s`; at most `limit` connections are open at once (further requests wait).
    A request that is cancelled while in flight closes its connection, since the reply would
    otherwise arrive on the next request's connection.
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        limit: int = 256,
        idle_timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
        self._head = f"POST {target} HTTP/1.1\r\nhost: {host}\r\n".encode("latin-1") + _header_lines(headers)
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self._idle_timeout = idle_timeout_s
        self._closed = False

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> Http1Response:
        """POST `body` with `headers` added to the pool's; the whole reply, or `Http1Error`."""
        extra = _header_lines(headers) if headers else b""
        request = b"".join((self._head, extra, b"content-length: %d\r\n\r\n" % len(body), body))
        async with self._slots:
            connection = self._idle_connection() or await self._connect()
            try:
                reply = await connection.send(request)
            except BaseException:
                connection.close()
                raise
            if connection.keep_alive and not connection.closed and not self._closed:
                self._idle.append(connection)
            else:
                connection.close()
            return reply

    async def aclose(self) -> None:
        """Close every idle connection; requests in flight keep theirs until they finish."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _idle_connection(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._idle_timeout:
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        if self._closed:
            raise Http1Error("the connection pool is closed")
        loop = asyncio.get_running_loop()
        kwargs: dict[str, Any] = {"ssl": self._ssl, "server_hostname": self._host} if self._ssl else {}
        try:
            _, connection = await loop.create_connection(_Connection, self._host, self._port, **kwargs)
        except OSError as exc:  # refused, unreachable, DNS (socket.gaierror), TLS (ssl.SSLError)
            raise Http1Error(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return connection
