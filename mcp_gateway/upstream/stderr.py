"""Route a stdio upstream's stderr into the gateway's log, line by line."""

from __future__ import annotations

import logging
import os
import threading
from types import TracebackType
from typing import TextIO

__all__ = ["StderrPump"]

_MAX_LINE = 4096


class StderrPump:
    """A pipe whose write end is handed to a child as stderr; a thread logs what arrives.

    A thread (one per stdio upstream) keeps this off the event loop and needs no polling; it
    ends on its own at EOF, once the child and our copy of the write end are both closed.
    """

    def __init__(self, server: str, logger: logging.Logger) -> None:
        self._server = server
        self._logger = logger
        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w", encoding="utf-8", errors="replace")
        self._reader = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
        self._thread = threading.Thread(target=self._pump, name=f"stderr-{server}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        with self._reader:
            for line in self._reader:
                text = line.rstrip("\n")
                if text:
                    self._logger.info("[%s] %s", self._server, text[:_MAX_LINE])

    def close(self) -> None:
        """Close our copy of the write end; the thread stops when the child's copy closes too."""
        if not self.writer.closed:
            self.writer.close()

    def __enter__(self) -> StderrPump:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
