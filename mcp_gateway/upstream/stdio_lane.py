"""The stdio transport for upstream servers, with a lean lane for `tools/call`.

The SDK's `stdio_client` turns every line into a pydantic message and every call goes through the
SDK client's request machinery; measured on this project's machines, taking `tools/call` around
both saves the gateway about 0.9 ms of CPU per call (docs/performance.md). This transport runs the
same process (the SDK's spawn, environment and process-tree shutdown) and hands the SDK client the
same message streams, so the SDK keeps the handshake, listings, health checks, notifications and
calls that want progress. `StdioLane.call_tool` writes one JSON-RPC line itself and takes its reply
off stdout before the SDK parses it, by request id (the lane's ids are strings with a prefix the
SDK never uses: it numbers its own requests).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
import anyio.lowlevel
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.client._transport import TransportStreams
from mcp.client.stdio import (  # the SDK's own process handling, so both transports behave alike
    _WRITER_FLUSH_TIMEOUT,
    StdioServerParameters,
    _aclose_all,
    _create_platform_compatible_process,
    _drain_stdout,
    _get_executable_command,
    _stop_server_process,
    get_default_environment,
)
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_gateway.upstream.stateless_http import unstamped_result

__all__ = ["StdioLane", "lane_stdio_client", "write_line"]

logger = logging.getLogger("mcp_gateway.upstream")

_ID_PREFIX = "gw-"
_ID_MARK = b'"' + _ID_PREFIX.encode()  # a line holding a lane reply contains this


@dataclass(slots=True)
class _Pending:
    # asyncio's own future: an anyio.Event costs several times as much per call, and the lane
    # only runs on asyncio (the gateway's loop).
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    reply: dict[str, Any] | None = None

    def resolve(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class StdioLane:
    """Calls tools over a live stdio upstream with one JSON line each way.

    Bound to a process by `lane_stdio_client` while it runs; calls made while unbound, or cut by
    the process ending, fail with `MCPError(CONNECTION_CLOSED)` as the SDK's would.
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._stdin: Any = None
        self._encoding = "utf-8"
        self._meta: dict[str, Any] | None = None

    def use_protocol(self, version: str | None) -> None:
        """Stamp calls as the negotiated protocol wants (2026-07-28 requests carry `_meta`)."""
        self._meta = (
            {
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientInfo": {"name": "mcp-gateway", "version": "0.1.0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            }
            if version in MODERN_PROTOCOL_VERSIONS
            else None
        )

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call `name`; raises `MCPError` for JSON-RPC errors and for a link that went away."""
        request_id = f"{_ID_PREFIX}{next(self._ids)}"
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if self._meta is not None:
            params["_meta"] = self._meta
        pending = self._pending[request_id] = _Pending()
        try:
            await self._write({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
            await pending.done
        except BaseException:
            if self._pending.pop(request_id, None) is not None and self._stdin is not None:
                await self._cancel_upstream(request_id)
            raise
        reply = pending.reply
        if reply is None:
            raise MCPError(types.CONNECTION_CLOSED, "the server process ended")
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            code = int(error.get("code", types.INTERNAL_ERROR))
            raise MCPError(code, str(error.get("message", "")), error.get("data"))
        return types.CallToolResult.model_validate(unstamped_result(reply.get("result")))

    async def _cancel_upstream(self, request_id: str) -> None:
        """Tell the server a call nobody waits for any more is cancelled (as the SDK does)."""
        note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
        # A process already gone has nothing to cancel.
        with anyio.CancelScope(shield=True), anyio.move_on_after(2), suppress(MCPError):
            await self._write(note)

    async def _write(self, message: dict[str, Any]) -> None:
        stdin = self._stdin
        if stdin is None:
            raise MCPError(types.CONNECTION_CLOSED, "the server process is not running")
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode(self._encoding)
        try:
            await write_line(stdin, data)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError) as exc:
            raise MCPError(types.CONNECTION_CLOSED, "the server process's stdin is closed") from exc

    def take(self, line: bytes) -> bool:
        """Resolve a lane call if `line` is its reply; False hands the line to the SDK."""
        if _ID_MARK not in line:
            return False
        try:
            message = json.loads(line)
        except ValueError:
            return False
        request_id = message.get("id") if isinstance(message, dict) and "method" not in message else None
        if not isinstance(request_id, str) or not request_id.startswith(_ID_PREFIX):
            return False
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return True  # the reply to a call given up on (timeout, cancel): nobody wants it
        pending.reply = message
        pending.resolve()
        return True

    def bind(self, stdin: Any, encoding: str) -> None:
        """Attach to a running process's stdin."""
        self._stdin, self._encoding = stdin, encoding

    def unbind(self) -> None:
        """Detach; every call still waiting fails as a closed connection."""
        self._stdin = None
        pending, self._pending = self._pending, {}
        for call in pending.values():
            call.resolve()


@asynccontextmanager
async def lane_stdio_client(  # noqa: PLR0915 - one piece, as the SDK's stdio_client it mirrors
    server: StdioServerParameters, lane: StdioLane, errlog: TextIO
) -> AsyncGenerator[TransportStreams, None]:
    """The SDK's `stdio_client`, with `lane` taking its own replies off stdout first."""
    command = await _get_executable_command(server.command)
    process = await _create_platform_compatible_process(
        command=command,
        args=server.args,
        env=get_default_environment() | (server.env or {}),
        errlog=errlog,
        cwd=server.cwd,
    )
    read_stream_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_stream_reader = anyio.create_memory_object_stream[SessionMessage](0)
    assert process.stdin is not None and process.stdout is not None, "the server is spawned with pipes"
    stdin, stdout = process.stdin, process.stdout
    lane.bind(stdin, server.encoding)
    shutting_down = False
    writer_done = anyio.Event()

    async def stdout_reader() -> None:
        try:
            async with read_stream_writer:
                try:
                    await _read_lines(stdout, lane, server, read_stream_writer)
                finally:
                    lane.unbind()
                    await _drain_stdout(process)
        except anyio.ClosedResourceError:
            pass  # our own shutdown closed the stdout stream under the read
        except (anyio.BrokenResourceError, ConnectionError):
            if not shutting_down:
                logger.exception("Reading from the MCP server's stdout failed mid-session")

    async def stdin_writer() -> None:
        try:
            await _write_messages(write_stream_reader, stdin, server)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_stream_writer.aclose()
        finally:
            writer_done.set()

    async def shutdown() -> None:
        lane.unbind()
        read_stream.close()
        write_stream.close()
        with anyio.move_on_after(_WRITER_FLUSH_TIMEOUT) as flush_scope:
            await writer_done.wait()
        if flush_scope.cancelled_caught:
            await anyio.lowlevel.cancel_shielded_checkpoint()
        await _stop_server_process(process)
        await _aclose_all(read_stream, write_stream, read_stream_writer, write_stream_reader)
        await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(stdout_reader)
        tg.start_soon(stdin_writer)
        try:
            yield read_stream, write_stream
        finally:
            shutting_down = True
            with anyio.CancelScope(shield=True):  # the process must not leak, whatever cancels us
                await shutdown()
            tg.cancel_scope.cancel()
    await anyio.lowlevel.cancel_shielded_checkpoint()


async def _write_messages(
    source: MemoryObjectReceiveStream[SessionMessage], stdin: Any, server: StdioServerParameters
) -> None:
    """The SDK's outgoing messages, one line each."""
    async with source:
        async for session_message in source:
            text = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
            await write_line(stdin, (text + "\n").encode(server.encoding, server.encoding_error_handler))


async def write_line(stdin: Any, data: bytes) -> None:
    """Write one whole message line to the server's stdin (anyio's process stream).

    Every message, the lane's and the SDK's, is one `write` of a whole line, so lines never
    interleave and no lock is needed. The line goes straight to the asyncio `StreamWriter` under
    anyio's wrapper (its private `_stream`; any other stream, or an anyio without it, gets the
    public `send`): the wrapper's `send` adds a checkpoint and a shielded cancel scope around a
    loop turn to every write, about 5% of the gateway's instructions per stdio call
    (`benchmarks/call_instructions.py`). Flow control is the same: `drain` waits while the
    pipe's buffer is full.
    """
    writer = getattr(stdin, "_stream", None)
    if not isinstance(writer, asyncio.StreamWriter):
        await stdin.send(data)
        return
    if writer.is_closing():
        raise anyio.ClosedResourceError
    try:
        writer.write(data)
        await writer.drain()
    except RuntimeError as exc:  # uvloop's pipe transport refuses writes once the pipe is gone
        raise anyio.BrokenResourceError from exc


async def _read_lines(
    stdout: Any,
    lane: StdioLane,
    server: StdioServerParameters,
    sink: MemoryObjectSendStream[SessionMessage | Exception],
) -> None:
    """Split stdout into lines; lane replies go to the lane, the rest to the SDK, in order."""
    buffer = b""
    async for chunk in stdout:
        lines = (buffer + chunk).split(b"\n")
        buffer = lines.pop()
        for line in lines:
            if lane.take(line):
                continue
            try:
                await sink.send(_parse_line(line.decode(server.encoding, server.encoding_error_handler)))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return  # the session is gone; only the drain remains


def _parse_line(line: str) -> SessionMessage | Exception:
    """One stdout line for the SDK; parse errors travel as values, as in the SDK's transport."""
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValueError as exc:
        logger.exception("Failed to parse JSONRPC message from server")
        return exc
    return SessionMessage(message)
