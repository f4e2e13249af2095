"""Reload the configuration on SIGHUP, on a change of the file, or when the admin API asks.

A new file is validated in full first; an invalid one is refused with its key paths and the old
configuration keeps serving. Sessions are never dropped by a reload.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_gateway.config.loader import load_config
from mcp_gateway.config.models import GatewayConfig
from mcp_gateway.errors import ConfigError

__all__ = ["ConfigWatcher"]

logger = logging.getLogger("mcp_gateway.reload")


class ConfigWatcher:
    """Loads `path` again when asked, on SIGHUP, or when its modification time changes."""

    def __init__(
        self, path: Path, apply: Callable[[GatewayConfig], Awaitable[None]], *, poll_interval_s: float = 2.0
    ) -> None:
        self.path = path
        self._apply = apply
        self._poll_interval_s = poll_interval_s
        self._lock = anyio.Lock()
        self._stamp = self._mtime()

    def _mtime(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    async def reload(self) -> GatewayConfig:
        """Load, validate and apply the file; raises `ConfigError` and changes nothing if it is invalid."""
        async with self._lock:
            self._stamp = self._mtime()
            config = load_config(self.path)
            await self._apply(config)
            logger.info("configuration reloaded from %s", self.path)
            return config

    async def _reload_logged(self, why: str) -> None:
        try:
            await self.reload()
        except ConfigError as exc:
            logger.error("configuration reload (%s) refused; the previous configuration keeps serving:\n%s", why, exc)

    async def watch_file(self) -> None:
        """Poll the file's mtime; a stat every couple of seconds costs nothing and needs no extra dependency."""
        while True:
            await anyio.sleep(self._poll_interval_s)
            stamp = self._mtime()
            if stamp is not None and stamp != self._stamp:
                await self._reload_logged("file changed")

    async def watch_sighup(self) -> None:
        """Reload on every SIGHUP (only in the main thread, where signal handlers can be installed)."""
        try:
            with anyio.open_signal_receiver(signal.SIGHUP) as signals:
                async for _ in signals:
                    await self._reload_logged("SIGHUP")
        except (ValueError, NotImplementedError, RuntimeError):
            logger.debug("SIGHUP reload unavailable here (not the main thread)")
