"""The set of running upstreams, changeable while the gateway serves (config reload)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping

import anyio
from anyio.abc import TaskGroup

from mcp_gateway.config.models import ServerConfig
from mcp_gateway.upstream.connection import Upstream, UpstreamState
from mcp_gateway.upstream.listing import Listing
from mcp_gateway.upstream.oauth.credentials import UpstreamCredentials

CredentialsFor = Callable[[str, ServerConfig], UpstreamCredentials | None]

__all__ = ["UpstreamSet"]

logger = logging.getLogger("mcp_gateway.upstream")


class UpstreamSet(Mapping[str, Upstream]):
    """Owns one supervisor task per enabled server; `apply()` adds, removes and restarts them.

    A read-only mapping of name -> `Upstream`, so the request path sees changes at once.
    """

    def __init__(
        self,
        configs: Mapping[str, ServerConfig],
        *,
        on_listing: Callable[[str, Listing], None],
        on_removed: Callable[[str], None],
        credentials_for: CredentialsFor | None = None,
    ) -> None:
        self._on_listing = on_listing
        self._credentials_for = credentials_for or (lambda name, cfg: None)
        self._on_removed = on_removed
        self._upstreams: dict[str, Upstream] = {}
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._tg: TaskGroup | None = None
        for name, cfg in configs.items():
            if cfg.enabled:
                self._upstreams[name] = self._new(name, cfg)

    def _new(self, name: str, cfg: ServerConfig) -> Upstream:
        return Upstream(name, cfg, on_listing=self._on_listing, credentials=self._credentials_for(name, cfg))

    def __getitem__(self, name: str) -> Upstream:
        return self._upstreams[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._upstreams)

    def __len__(self) -> int:
        return len(self._upstreams)

    async def run(self) -> None:
        """Supervise every upstream until cancelled; cancelling stops them all (children included)."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            for upstream in self._upstreams.values():
                self._start(upstream)
            await anyio.sleep_forever()

    def _start(self, upstream: Upstream) -> None:
        assert self._tg is not None, "UpstreamSet.run() must be running"
        scope = anyio.CancelScope()
        self._scopes[upstream.name] = scope

        async def supervise() -> None:
            with scope:
                await upstream.run()

        self._tg.start_soon(supervise, name=f"upstream-{upstream.name}")

    def _stop(self, name: str) -> None:
        self._upstreams[name].mark_stopped()
        scope = self._scopes.pop(name, None)
        if scope is not None:
            scope.cancel()
        del self._upstreams[name]
        self._on_removed(name)

    def apply(self, configs: Mapping[str, ServerConfig]) -> tuple[set[str], set[str], set[str]]:
        """Match the running set to `configs`; returns (added, removed, restarted) names."""
        wanted = {name: cfg for name, cfg in configs.items() if cfg.enabled}
        removed = set(self._upstreams) - set(wanted)
        changed = {n for n in set(self._upstreams) & set(wanted) if self._upstreams[n].config != wanted[n]}
        added = set(wanted) - set(self._upstreams)
        for name in removed | changed:
            self._stop(name)
        for name in added | changed:
            upstream = self._new(name, wanted[name])
            self._upstreams[name] = upstream
            self._start(upstream)
        if removed or added or changed:
            logger.info(
                "upstreams: added %s, removed %s, restarted %s",
                sorted(added) or "-",
                sorted(removed) or "-",
                sorted(changed) or "-",
            )
        return added, removed, changed

    def states(self) -> dict[str, UpstreamState]:
        """Each upstream's current state."""
        return {name: u.state for name, u in self._upstreams.items()}
