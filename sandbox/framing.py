"""Length-prefixed JSON frames: the wire format between the gateway and a worker process.

A frame is a 4-byte big-endian payload length followed by that many bytes of UTF-8 JSON holding
one object. The worker side reads and writes with blocking `os.read`/`os.write` (it has nothing
else to do while it waits); the gateway side uses anyio streams (see `sandbox.process`).

Messages (`op` field), gateway -> worker: `run`, `reply`; worker -> gateway: `ready`, `call`, `done`.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

__all__ = [
    "HEADER",
    "MAX_FRAME_BYTES",
    "FrameError",
    "FrameReader",
    "FrameWriter",
    "decode_payload",
    "encode_frame",
    "payload_length",
]

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 16 * 1024 * 1024
"""Largest frame either side accepts; bounds what a hostile script can make the gateway buffer."""

Message = dict[str, Any]


class FrameError(Exception):
    """The peer closed the pipe or sent a malformed or oversized frame."""


def encode_frame(message: Message) -> bytes:
    """Serialise one message; `default=str` so a host function's non-JSON value degrades to text."""
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    if len(payload) > MAX_FRAME_BYTES:
        raise FrameError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME_BYTES}-byte cap")
    return HEADER.pack(len(payload)) + payload


def payload_length(header: bytes) -> int:
    """Length announced by a frame header; refuses oversized frames before anything is buffered."""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise FrameError(f"peer announced a {length}-byte frame (cap {MAX_FRAME_BYTES})")
    return int(length)


def decode_payload(payload: bytes) -> Message:
    """Parse one frame payload; anything but a JSON object with an `op` is a protocol error."""
    try:
        message = json.loads(payload)
    except ValueError as exc:
        raise FrameError(f"malformed frame: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise FrameError("frame is not an object with an 'op'")
    return message


class FrameReader:
    """Blocking frame reader over a raw file descriptor (worker side)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def _read_exactly(self, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            chunk = os.read(self._fd, min(remaining, 1 << 20))
            if not chunk:
                raise FrameError("peer closed the pipe")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> Message:
        """Block until the next message arrives."""
        return decode_payload(self._read_exactly(payload_length(self._read_exactly(HEADER.size))))


class FrameWriter:
    """Blocking frame writer over a raw file descriptor (worker side)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, message: Message) -> None:
        """Write one message completely."""
        view = memoryview(encode_frame(message))
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
