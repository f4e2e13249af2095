"""The lean upstream HTTP/1.1 client against a real uvicorn server, and against raw sockets for
the replies a well-behaved server never sends (early close, close-delimited bodies)."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mcp_gateway.upstream.http1 import Http1Error, Http1Pool
from tests.fixtures.processes import free_port, listening_socket

pytestmark = pytest.mark.anyio


class Recorder:
    """An ASGI app that echoes the request, in the reply shape a test asks for (path)."""

    def __init__(self) -> None:
        self.peers: set[tuple[str, int]] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = anyio.Event()
        self.busy = anyio.Event()  # set once `busy_at` requests wait on /slow together
        self.busy_at = 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.peers.add(scope["client"])
        body = await Request(scope, receive).body()
        headers = dict(scope["headers"])
        reply = b"%s|%s|%s" % (body, headers.get(b"x-extra", b"-"), headers.get(b"x-fixed", b"-"))
        path = scope["path"]
        if path == "/slow":
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.in_flight >= self.busy_at:
                self.busy.set()
            await self.release.wait()
            self.in_flight -= 1
        if path == "/chunked":  # no content-length: uvicorn sends chunked transfer coding
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for piece in (reply[:3], reply[3:]):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        out_headers = [(b"content-type", b"text/plain")]
        if path == "/close":
            out_headers.append((b"connection", b"close"))
        if path == "/gzip":
            reply = gzip.compress(reply)
            out_headers.append((b"content-encoding", b"gzip"))
        out_headers.append((b"content-length", b"%d" % len(reply)))
        await send({"type": "http.response.start", "status": 201, "headers": out_headers})
        await send({"type": "http.response.body", "body": reply})


@asynccontextmanager
async def uvicorn_server(app: Recorder, **tls: str) -> AsyncIterator[str]:
    sock = listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1, **tls)
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])  # already listening: connections queue until it starts
            try:
                yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


@asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    server = await asyncio.start_server(handle, sock=listening_socket())
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def test_keeps_connections_alive_and_sends_the_pool_and_call_headers() -> None:
    app = Recorder()
    async with uvicorn_server(app) as url:
        pool = Http1Pool(url + "/echo", {"X-Fixed": "f"})
        with anyio.fail_after(10):
            replies = [await pool.post(b"call %d" % i, {"x-extra": str(i)}) for i in range(5)]
        await pool.aclose()
    assert [r.body for r in replies] == [b"call %d|%d|f" % (i, i) for i in range(5)]
    assert {r.status for r in replies} == {201}
    assert replies[0].headers["content-type"] == "text/plain"
    assert len(app.peers) == 1  # one kept-alive connection served all five


async def test_chunked_gzip_and_connection_close_replies() -> None:
    app = Recorder()
    async with uvicorn_server(app) as url:
        chunked, gzipped, closing = (
            Http1Pool(url + "/chunked", {}),
            Http1Pool(url + "/gzip", {}),
            Http1Pool(url + "/close", {}),
        )
        with anyio.fail_after(10):
            assert (await chunked.post(b"abcdef")).body == b"abcdef|-|-"
            assert (await gzipped.post(b"zip")).body == b"zip|-|-"
            first = await closing.post(b"one")
            second = await closing.post(b"two")  # the server closed the first connection: a new one
        for pool in (chunked, gzipped, closing):
            await pool.aclose()
    assert (first.body, second.body) == (b"one|-|-", b"two|-|-")
    assert len(app.peers) == 4


async def test_limit_caps_open_connections() -> None:
    app = Recorder()
    app.busy_at = 3
    async with uvicorn_server(app) as url:
        pool = Http1Pool(url + "/slow", {}, limit=3)
        bodies: list[bytes] = []

        async def one(i: int) -> None:
            bodies.append((await pool.post(b"%d" % i)).body)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(one, i)
                await app.busy.wait()
                app.release.set()
        await pool.aclose()
    assert sorted(bodies) == sorted(b"%d|-|-" % i for i in range(8))
    assert app.most_in_flight == 3
    assert len(app.peers) == 3


async def test_a_cancelled_request_closes_its_connection_so_no_reply_goes_astray() -> None:
    app = Recorder()
    async with uvicorn_server(app) as url:
        slow, fast = Http1Pool(url + "/slow", {}), Http1Pool(url + "/echo", {})
        with anyio.fail_after(10):
            with anyio.move_on_after(0.2) as waited:
                await slow.post(b"never")
            assert waited.cancelled_caught
            app.release.set()
            assert (await slow.post(b"again")).body == b"again|-|-"
            assert (await fast.post(b"x")).body == b"x|-|-"
        await slow.aclose()
        await fast.aclose()


async def test_connection_failures_are_http1_errors_that_say_what_happened() -> None:
    refused = Http1Pool(f"http://127.0.0.1:{free_port()}/mcp", {})
    with anyio.fail_after(10), pytest.raises(Http1Error, match=r"cannot connect to 127\.0\.0\.1"):
        await refused.post(b"{}")

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        writer.close()

    async with raw_server(hang_up) as url:
        with anyio.fail_after(10), pytest.raises(Http1Error, match="closed the connection before replying"):
            await Http1Pool(url, {}).post(b"{}")

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready\r\n\r\n")
        try:
            await reader.read()  # until the client gives up on us
        finally:
            writer.close()

    async with raw_server(garbage) as url:
        with anyio.fail_after(10), pytest.raises(Http1Error, match="malformed HTTP reply"):
            await Http1Pool(url, {}).post(b"{}")


async def test_a_body_delimited_by_close_is_read_to_the_end() -> None:
    async def old_style(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"ok":')
        await writer.drain()
        writer.write(b"true}")
        writer.close()

    async with raw_server(old_style) as url:
        with anyio.fail_after(10):
            reply = await Http1Pool(url, {}).post(b"{}")
    assert (reply.status, reply.body) == (200, b'{"ok":true}')


def test_header_injection_and_bad_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid HTTP header"):
        Http1Pool("http://127.0.0.1:1/mcp", {"x-evil": "a\r\nhost: elsewhere"})
    with pytest.raises(ValueError, match="not an http"):
        Http1Pool("ftp://127.0.0.1/mcp", {})


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_https_verifies_the_server_and_keeps_the_connection(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    app = Recorder()
    async with uvicorn_server(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        trusting = Http1Pool(url + "/echo", {}, ssl_context=ssl.create_default_context(cafile=str(cert)))
        with anyio.fail_after(10):
            assert [(await trusting.post(b"%d" % i)).body for i in range(3)] == [b"0|-|-", b"1|-|-", b"2|-|-"]
        await trusting.aclose()
        assert len(app.peers) == 1
        strict = Http1Pool(url + "/echo", {})  # the system's trust store does not know this certificate
        with anyio.fail_after(10), pytest.raises(Http1Error, match="CERTIFICATE_VERIFY_FAILED"):
            await strict.post(b"x")
