"""Worker process entry point: confine, load the engine, then serve runs one at a time.

Started by `sandbox.process` as `python -I -c BOOTSTRAP <package dir> <engine>`; the bootstrap
imports this module without executing `sandbox/__init__.py`, so a worker never loads the
gateway-side code (anyio and friends): faster start, smaller address space.

The worker is single-threaded and blocking on purpose: while a script waits for a host call
there is nothing else for it to do, and a plain `os.read` is the cheapest wait there is.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from .engines import load_engine
from .engines.base import EngineSession
from .execute import request_bindings, run_request
from .framing import FrameError, FrameReader, FrameWriter
from .oslimits import address_space_bytes, confine_process

__all__ = ["main"]


def _protocol_fds() -> tuple[int, int]:
    """Requests on fd 0; replies on a private copy of fd 1, with fd 1 itself sent to /dev/null
    so a native library that writes to stdout cannot corrupt the frame stream."""
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return 0, out_fd


def _serve(engine_name: str) -> None:
    """Load the engine, report ready, then run scripts until the pipe closes or a run recycles."""
    in_fd, out_fd = _protocol_fds()
    reader, writer = FrameReader(in_fd), FrameWriter(out_fd)
    engine = load_engine(engine_name)
    engine.warm_up()
    baseline = address_space_bytes()

    def channel(message: dict[str, Any]) -> dict[str, Any]:
        writer.send(message)
        reply = reader.receive()
        if reply["op"] != "reply":
            raise FrameError(f"expected a reply, got {reply['op']!r}")
        return reply

    writer.send({"op": "ready", "pid": os.getpid(), "engine": engine_name})
    # The session for the next run is opened while idle, for the bindings seen last: a gateway
    # sends the same bindings again and again, and opening costs about a third of a warm run.
    prepared: tuple[dict[str, list[str]], EngineSession] | None = None
    while True:
        try:
            request = reader.receive()
        except FrameError:
            return  # the gateway closed the pipe: shut down quietly
        if request["op"] != "run":
            raise FrameError(f"unexpected message {request['op']!r}")
        bindings = request_bindings(request)
        reuse = prepared is not None and prepared[0] == bindings
        session = prepared[1] if prepared is not None and reuse else engine.open(bindings)
        done = run_request(session, request, channel, writer.send, baseline)
        writer.send(done)
        if done["recycle"]:
            return
        prepared = (bindings, engine.open(bindings))


def main(engine_name: str) -> None:
    """Confine the process, then serve on a second thread.

    Why a thread: on every call into Go from the process's main thread, cgo asks glibc for the
    thread's stack bounds, and for the main thread glibc parses /proc/self/maps (measured here:
    ~0.3 ms per starlark-go call, against ~2 us from any other thread).
    """
    confine_process()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            _serve(engine_name)
        except BaseException as exc:  # re-raised on the main thread so the exit status shows it
            failure.append(exc)

    thread = threading.Thread(target=target, name="sandbox-worker")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "pyo3")
