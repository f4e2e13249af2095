"""One worker process seen from the gateway: spawn, frames in and out, kill, reap.

Workers are plain subprocesses (`python -I -c BOOTSTRAP`), not `multiprocessing` children:
nothing is pickled and the environment is built from scratch. Frames travel over two raw pipes
(`sandbox.pipes`, cheaper than anyio's process streams). Each worker leads its own session.

`spawn()` returns as soon as the process exists; the worker imports and warms up its engine on
its own, and whoever first needs it awaits `wait_ready()`. So replacing a worker costs the
gateway a fork/exec, not a cold start, and no background task is needed.

A worker's stderr goes to an anonymous temporary file rather than a pipe: nobody has to drain
it, and after a crash its tail tells a Rust or Go out-of-memory abort from other deaths.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc

from .framing import FrameError
from .pipes import FramePipe, PipeClosed

__all__ = ["WorkerDied", "WorkerProcess"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGE = __name__.rpartition(".")[0]
# Registers the package without running its __init__ (which imports the gateway side, anyio
# included), then starts the worker loop. argv: package dir, package name, engine name.
_BOOTSTRAP = (
    "import sys, types\n"
    "pkg = types.ModuleType(sys.argv[2]); pkg.__path__ = [sys.argv[1]]; sys.modules[sys.argv[2]] = pkg\n"
    "__import__(sys.argv[2] + '.worker', fromlist=['main']).main(sys.argv[3])\n"
)
_STDERR_EXCERPT_BYTES = 16384


class WorkerDied(Exception):
    """The worker exited, was killed, or broke the frame protocol."""


def _worker_env(memory_mb: int) -> dict[str, str]:
    """A scrubbed environment: none of the gateway's variables (keys, tokens) reach a worker."""
    return {
        "GOTRACEBACK": "none",  # a Go fatal error prints one line, not every goroutine
        "GOMAXPROCS": "1",  # the interpreter is single-threaded; keep Go's GC on one core
        "GOMEMLIMIT": f"{max(16, memory_mb)}MiB",  # make Go's GC work hard before RLIMIT_AS bites
    }


class WorkerProcess:
    """A worker process; usable for runs once `wait_ready()` has returned."""

    def __init__(self, process: anyio.abc.Process, pipe: FramePipe, stderr: IO[bytes], engine: str) -> None:
        self.engine = engine
        self.ready = False
        self.killed = False
        """True once the gateway killed it (deadline, cancellation, shutdown)."""
        self._process = process
        self._pipe = pipe
        self._stderr = stderr
        self._reaped = False

    @classmethod
    async def spawn(cls, engine: str, memory_mb: int) -> WorkerProcess:
        """Start a worker process (it boots in the background)."""
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; closed by reap()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        try:
            process = await anyio.open_process(
                [sys.executable, "-I", "-c", _BOOTSTRAP, str(_PACKAGE_DIR), _PACKAGE, engine],
                stdin=to_worker_r,
                stdout=from_worker_w,
                stderr=stderr,
                env=_worker_env(memory_mb),
                cwd="/",
                start_new_session=True,
            )
        except BaseException:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
                os.close(fd)
            stderr.close()
            raise
        os.close(to_worker_r)  # the worker's ends: only the worker may hold them, so EOF means death
        os.close(from_worker_w)
        return cls(process, FramePipe(from_worker_r, to_worker_w), stderr, engine)

    async def wait_ready(self) -> None:
        """Wait for the `ready` frame (bound it with `anyio.fail_after`); WorkerDied if it crashed."""
        if self.ready:
            return
        hello = await self.receive()
        if hello.get("op") != "ready":
            raise WorkerDied(f"worker said {hello.get('op')!r} instead of 'ready'")
        self.ready = True

    @property
    def pid(self) -> int:
        """Operating-system process id (also its process-group id)."""
        return self._process.pid

    @property
    def exited(self) -> bool:
        """Its exit status has been collected (so `reap` will not wait)."""
        return self._process.returncode is not None

    @property
    def alive(self) -> bool:
        """Not killed by us and not exited (checked with the kernel, without reaping)."""
        if self.killed or self._process.returncode is not None:
            return False
        try:  # WNOWAIT: asyncio's child watcher still gets to reap it and read the status
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def stderr_size(self) -> int:
        """How much the worker has written to stderr so far (a mark for `stderr_since`)."""
        with contextlib.suppress(OSError, ValueError):
            return self._stderr.seek(0, os.SEEK_END)
        return 0

    def stderr_since(self, mark: int) -> str:
        """The first KB written to stderr after `mark`: where panics and Go's fatal errors put
        their one-line reason (a Go crash then dumps goroutines, so the tail is no use)."""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(mark)
            return self._stderr.read(_STDERR_EXCERPT_BYTES).decode("utf-8", "replace")
        return ""

    async def send(self, message: dict[str, Any]) -> None:
        """Write one frame (FrameError, from encoding, if the message is oversized)."""
        try:
            await self._pipe.send(message)
        except PipeClosed as exc:
            raise WorkerDied(f"worker pipe closed: {exc}") from exc

    async def receive(self) -> dict[str, Any]:
        """Read one frame."""
        try:
            return await self._pipe.receive()
        except (PipeClosed, FrameError) as exc:
            raise WorkerDied(f"worker pipe closed: {exc}") from exc

    def kill(self) -> None:
        """SIGKILL the worker's process group; safe to call repeatedly."""
        self.killed = True
        if self._process.returncode is not None:
            return  # reaped: its pid may already belong to someone else
        # Not Process.kill(): Popen.send_signal() polls first, which can reap the child behind
        # asyncio's child watcher and lose the real exit status.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)

    async def exit_status(self) -> int | None:
        """After a death: wait for the exit status (negative for a signal); bound it by the caller."""
        return await self._process.wait()

    def close_pipe(self) -> None:
        """Close the frame pipe now (a killed worker's pipe is of no further use)."""
        self._pipe.close()

    async def reap(self) -> None:
        """Kill if needed, collect the exit status and close pipes and files (no zombies)."""
        if self._reaped:
            return
        self._reaped = True
        with anyio.CancelScope(shield=True):
            if self._process.returncode is None:
                self.kill()
            self._pipe.close()
            with anyio.move_on_after(5):
                await self._process.wait()
            await self._process.aclose()
            self._stderr.close()
