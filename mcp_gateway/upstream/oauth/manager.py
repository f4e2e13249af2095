"""The credentials of every upstream that has an `auth:` block, and the logins in flight.

Built in `create_app` (the upstream supervisors need their credentials when they are created);
`run(data_dir)` in the lifespan opens the token store, loads every session and keeps their
refreshers running. Config reloads call `apply()`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import httpx2
from anyio.abc import TaskGroup

from mcp_gateway.config.auth import BearerAuth, OAuthAuth
from mcp_gateway.config.models import HttpServer, ServerConfig, SseServer
from mcp_gateway.errors import NotFoundError
from mcp_gateway.upstream.oauth.credentials import StaticBearer, UpstreamCredentials
from mcp_gateway.upstream.oauth.crypto import load_secret_box
from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, OAuthError
from mcp_gateway.upstream.oauth.session import OAuthSession, PendingLogin, RefreshPolicy
from mcp_gateway.upstream.oauth.store import MemoryTokenStore, SQLiteTokenStore, TokenStore

__all__ = ["OAUTH_DB", "UnknownLogin", "UpstreamAuth"]

logger = logging.getLogger("mcp_gateway.upstream.oauth")

OAUTH_DB = "oauth.db"


class UnknownLogin(DefinitiveOAuthError):
    """A callback whose `state` matches no login in flight (expired, used, or forged)."""


def _auth_of(cfg: ServerConfig) -> OAuthAuth | BearerAuth | None:
    return cfg.auth if isinstance(cfg, HttpServer | SseServer) else None


class UpstreamAuth:
    """OAuth sessions and static bearer tokens by server name."""

    def __init__(self, configs: Mapping[str, ServerConfig], *, policy: RefreshPolicy | None = None) -> None:
        self._policy = policy or RefreshPolicy()
        self._sessions: dict[str, OAuthSession] = {}
        self._bearers: dict[str, StaticBearer] = {}
        self._pending: dict[str, PendingLogin] = {}
        self._http: httpx2.AsyncClient | None = None
        self._store: TokenStore | None = None
        self._tg: TaskGroup | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}
        self.store_path: Path | None = None
        self._configure(configs)

    # -- configuration --------------------------------------------------------------------------

    def _new_session(self, name: str, cfg: HttpServer | SseServer, auth: OAuthAuth) -> OAuthSession:
        return OAuthSession(
            name, url=cfg.url, transport=cfg.transport, config=auth, http=self._client, policy=self._policy
        )

    def _configure(self, configs: Mapping[str, ServerConfig]) -> set[str]:
        """Match sessions to `configs`; returns the names whose sessions are new."""
        fresh: set[str] = set()
        self._bearers = {}
        wanted: dict[str, OAuthSession] = {}
        for name, cfg in configs.items():
            auth = _auth_of(cfg)
            if isinstance(auth, BearerAuth):
                self._bearers[name] = StaticBearer(auth.token)
            elif isinstance(auth, OAuthAuth):
                assert isinstance(cfg, HttpServer | SseServer)
                old = self._sessions.get(name)
                if old is not None and old.url == cfg.url and old.config == auth:
                    wanted[name] = old
                else:
                    wanted[name] = self._new_session(name, cfg, auth)
                    fresh.add(name)
        for name in set(self._sessions) - set(wanted) | (fresh & set(self._sessions)):
            scope = self._scopes.pop(name, None)
            if scope is not None:
                scope.cancel()
        self._sessions = wanted
        return fresh

    def apply(self, configs: Mapping[str, ServerConfig]) -> None:
        """Follow a config reload: new sessions load from the store and start refreshing."""
        for name in self._configure(configs):
            if self._tg is not None:
                self._tg.start_soon(self._run_session, self._sessions[name])

    def credentials_for(self, name: str, cfg: ServerConfig) -> UpstreamCredentials | None:
        """The credentials an upstream's transports use, or None for servers without `auth:`."""
        if name in self._bearers:
            return self._bearers[name]
        session = self._sessions.get(name)
        if session is not None and session.url == getattr(cfg, "url", None):
            return session
        return None

    def session(self, name: str) -> OAuthSession:
        """The OAuth session of `name`; `NotFoundError` when it has none."""
        session = self._sessions.get(name)
        if session is None:
            raise NotFoundError("OAuth server", name)
        return session

    def status(self, name: str) -> dict[str, Any] | None:
        """The auth status of `name` (None without `auth:`)."""
        if name in self._bearers:
            return self._bearers[name].status()
        session = self._sessions.get(name)
        if session is None:
            return None
        data = session.status()
        data["login_pending"] = any(p.server == name and p.expires_at > time.time() for p in self._pending.values())
        return data

    def names(self) -> list[str]:
        """Servers with an `auth:` block."""
        return sorted({*self._sessions, *self._bearers})

    # -- running --------------------------------------------------------------------------------

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            raise OAuthError("oauth", "the gateway is starting")
        return self._http

    async def _run_session(self, session: OAuthSession) -> None:
        scope = anyio.CancelScope()
        self._scopes[session.server] = scope
        with scope:
            assert self._store is not None
            await session.load(self._store)
            await session.run_refresher()

    async def run(
        self, data_dir: Path | None, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Open the store, load every session and refresh them until cancelled."""
        if data_dir is not None:
            self.store_path = data_dir / OAUTH_DB
            store: TokenStore = await SQLiteTokenStore.open(self.store_path, load_secret_box(data_dir))
        else:
            store = MemoryTokenStore()
        self._store = store
        timeout = httpx2.Timeout(15.0)
        try:
            async with (
                httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as http,
                anyio.create_task_group() as tg,
            ):
                self._http = http
                self._tg = tg
                for session in self._sessions.values():
                    tg.start_soon(self._run_session, session)
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._tg = None
            self._http = None
            with anyio.CancelScope(shield=True):
                await store.aclose()

    # -- login ----------------------------------------------------------------------------------

    async def start_login(self, name: str, redirect_uri: str) -> PendingLogin:
        """Begin a login for `name`; the browser must visit the returned authorization URL."""
        session = self.session(name)
        await session.wait_loaded()
        now = time.time()
        self._pending = {k: p for k, p in self._pending.items() if p.expires_at > now}
        pending = await session.start_login(redirect_uri)
        self._pending[pending.state] = pending
        return pending

    async def finish_login(self, state: str, code: str | None, iss: str | None, error: str | None) -> str:
        """Complete the login that `state` names with the callback's `code`; returns the server name."""
        pending = self._pending.pop(state, None)
        if pending is None or pending.expires_at < time.time() or pending.server not in self._sessions:
            raise UnknownLogin("oauth", "invalid_request", "no login is waiting for this callback (expired or used)")
        session = self._sessions[pending.server]
        if error is not None or not code:
            message = f"the authorization server answered {error or 'without a code'}"
            session.fail_login(message)
            raise DefinitiveOAuthError(pending.server, error or "invalid_request", message)
        await session.finish_login(pending, code, iss)
        return pending.server
