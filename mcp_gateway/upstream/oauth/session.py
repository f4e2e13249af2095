"""OAuth credentials of one upstream: its state, login, and refresh.

States: `loading` (until the store was read), `needs_login` (no token yet), `authorized`, and
`needs_reauth` (the authorization server refused the grant or the client; a person must log in
again). Only a definitive answer from the authorization server leaves `authorized`: network
errors, timeouts and 5xx answers are retried with backoff while the tokens stay, so a flaky
network never costs the user their login.

Tokens are refreshed ahead of expiry by `run_refresher()` and inline when the upstream answers
401 (`after_unauthorized`). Refreshes are single-flight: with rotating refresh tokens, two
concurrent refreshes would spend the same refresh token twice and the second would look like a
revocation.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx2
from mcp.client.auth.exceptions import OAuthFlowError
from mcp.client.auth.oauth2 import PKCEParameters
from mcp.client.auth.utils import validate_authorization_response_iss
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata
from pydantic import AnyUrl

from mcp_gateway.config.auth import OAuthAuth
from mcp_gateway.upstream.oauth.discovery import AuthServer, discover, issuers_match
from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, OAuthError, TransientOAuthError
from mcp_gateway.upstream.oauth.grant import exchange_code, refresh_tokens, register_client
from mcp_gateway.upstream.oauth.records import ClientRecord, TokenSet
from mcp_gateway.upstream.oauth.store import TokenStore

__all__ = ["AuthState", "OAuthSession", "PendingLogin", "RefreshPolicy"]

logger = logging.getLogger("mcp_gateway.upstream.oauth")

_GRANT_TYPES = ["authorization_code", "refresh_token"]
_CLIENT_GONE = {"invalid_client", "unauthorized_client"}
_EXPIRY_MARGIN_S = 5.0


def _secret_method(auth_server: AuthServer) -> str:
    """How to send a configured client secret: Basic unless the server only takes it in the body.

    RFC 8414 makes `client_secret_basic` the default when the server lists no methods.
    """
    supported = auth_server.metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    return "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"


class AuthState(StrEnum):
    """Where an OAuth upstream's login stands."""

    LOADING = "loading"
    NEEDS_LOGIN = "needs_login"
    AUTHORIZED = "authorized"
    NEEDS_REAUTH = "needs_reauth"


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """When to refresh, and how to retry a refresh that failed for a transient reason."""

    lead_fraction: float = 0.2
    """Refresh once this share of the token's lifetime is left ..."""
    min_lead_s: float = 1.0
    max_lead_s: float = 300.0
    """... but at least `min_lead_s` and at most `max_lead_s` before expiry."""
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    login_ttl_s: float = 600.0
    """How long a started login waits for its callback."""


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A login started by the admin API, waiting for the browser to come back to the callback."""

    server: str
    state: str
    verifier: str
    redirect_uri: str
    auth_server: AuthServer
    client: ClientRecord
    authorization_url: str
    expires_at: float


class OAuthSession:
    """Login and tokens of one upstream with `auth: {type: oauth}`."""

    def __init__(
        self,
        server: str,
        *,
        url: str,
        transport: str,
        config: OAuthAuth,
        http: Callable[[], httpx2.AsyncClient],
        policy: RefreshPolicy,
    ) -> None:
        self.server = server
        self.url = url
        self.transport = transport
        self.config = config
        self._http = http
        self._policy = policy
        self._store: TokenStore | None = None
        self._state = AuthState.LOADING
        self._last_error: str | None = None
        self._tokens: TokenSet | None = None
        self._client: ClientRecord | None = None
        self._lock = anyio.Lock()
        self._changed = anyio.Event()
        self.logins = 0
        self.login_failures = 0
        self.refreshes = 0
        self.last_refresh_at: float | None = None

    # -- state ----------------------------------------------------------------------------------

    @property
    def state(self) -> AuthState:
        """The current state."""
        return self._state

    @property
    def last_error(self) -> str | None:
        """The most recent failure (login, refresh or discovery), for status displays."""
        return self._last_error

    @property
    def tokens(self) -> TokenSet | None:
        """The current token set (never log it)."""
        return self._tokens

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _set_state(self, state: AuthState, error: str | None = None) -> None:
        if state is not self._state:
            logger.info("upstream %s auth: %s -> %s%s", self.server, self._state, state, f" ({error})" if error else "")
            self._state = state
        self._last_error = error
        self._notify()

    async def wait_changed(self) -> None:
        """Wait for the next change of state or tokens (callers bound the wait)."""
        await self._changed.wait()

    async def wait_loaded(self) -> None:
        """Wait until the stored state was read."""
        while self._state is AuthState.LOADING:
            await self._changed.wait()

    def is_ready(self) -> bool:
        """True when requests can carry a token."""
        return self._state is AuthState.AUTHORIZED

    def authorization(self) -> str | None:
        """The `Authorization` header value to send, if there is a token."""
        tokens = self._tokens
        if tokens is None or self._state is not AuthState.AUTHORIZED:
            return None
        return f"Bearer {tokens.access_token}"

    async def current_authorization(self) -> str | None:
        """Like `authorization()`, but a token about to expire is refreshed first.

        Some authorization servers treat a presented expired token as a reason to revoke its
        refresh token; never sending one keeps the grant alive. A failed refresh still returns
        the old token (the 401 path and the refresher take it from there).
        """
        tokens = self._tokens
        if (
            tokens is not None
            and tokens.expires_at is not None
            and self._state is AuthState.AUTHORIZED
            and tokens.refresh_token is not None
            and tokens.expires_within(min(_EXPIRY_MARGIN_S, (tokens.expires_at - tokens.obtained_at) / 4))
        ):
            with contextlib.suppress(OAuthError):
                await self.refresh(expected=tokens)
        return self.authorization()

    def status(self) -> dict[str, Any]:
        """Public facts for the admin API and `mcp-gateway auth status` (never a token)."""
        tokens = self._tokens
        client = self._client
        return {
            "type": "oauth",
            "state": str(self._state),
            "last_error": self._last_error,
            "expires_at": tokens.expires_at if tokens else None,
            "scope": tokens.scope if tokens else None,
            "has_refresh_token": bool(tokens and tokens.refresh_token),
            "client_id": client.info.client_id if client else self.config.client_id,
            "issuer": client.issuer if client else None,
            "logins": self.logins,
            "login_failures": self.login_failures,
            "refreshes": self.refreshes,
            "last_refresh_at": self.last_refresh_at,
        }

    # -- loading --------------------------------------------------------------------------------

    async def load(self, store: TokenStore) -> None:
        """Read the stored tokens and client; tokens issued for another URL are dropped."""
        self._store = store
        stored = await store.get(self.server)
        if stored is not None and stored.url == self.url:
            self._client = stored.client
            self._tokens = stored.tokens
        elif stored is not None:
            logger.info("upstream %s: the URL changed; stored OAuth tokens are not used", self.server)
        if self._tokens is not None and self._client is not None:
            self._set_state(AuthState.AUTHORIZED)
        else:
            self._tokens = None
            self._set_state(AuthState.NEEDS_LOGIN, "not logged in; run 'mcp-gateway auth login " + self.server + "'")

    async def _save_tokens(self, tokens: TokenSet | None) -> None:
        if self._store is not None:
            await self._store.put_tokens(self.server, self.url, tokens)

    async def _save_client(self, client: ClientRecord | None) -> None:
        if self._store is not None:
            await self._store.put_client(self.server, self.url, client)

    # -- login ----------------------------------------------------------------------------------

    def _scope(self, auth_server: AuthServer) -> str | None:
        return " ".join(self.config.scopes) if self.config.scopes else auth_server.scope

    async def _client_for(self, auth_server: AuthServer, redirect_uri: str) -> ClientRecord:
        endpoint = str(auth_server.metadata.token_endpoint)
        resource = auth_server.resource
        if self.config.client_id is not None:
            secret = self.config.client_secret
            info = OAuthClientInformationFull(
                client_id=self.config.client_id,
                client_secret=secret,
                redirect_uris=[AnyUrl(redirect_uri)],
                token_endpoint_auth_method=_secret_method(auth_server) if secret else "none",
                grant_types=list(_GRANT_TYPES),
            )
            return ClientRecord(info, auth_server.issuer, False, endpoint, resource)
        stored = self._client
        if (
            stored is not None
            and stored.registered
            and stored.issuer is not None
            and issuers_match(stored.issuer, auth_server.issuer)
            and redirect_uri in {str(u) for u in stored.info.redirect_uris or []}
        ):
            return replace(stored, token_endpoint=endpoint, resource=resource)
        metadata = OAuthClientMetadata(
            client_name=self.config.client_name,
            redirect_uris=[AnyUrl(redirect_uri)],
            grant_types=list(_GRANT_TYPES),
            response_types=["code"],
            scope=self._scope(auth_server),
        )
        info = await register_client(self._http(), self.server, auth_server.metadata, metadata)
        logger.info("upstream %s: registered OAuth client %s", self.server, info.client_id)
        return ClientRecord(info, auth_server.issuer, True, endpoint, resource)

    async def start_login(self, redirect_uri: str) -> PendingLogin:
        """Discover, register if needed, and build the authorization URL (PKCE S256, `resource`)."""
        try:
            auth_server = await discover(
                self._http(), self.server, self.url, transport=self.transport, grant_types=_GRANT_TYPES
            )
            client = await self._client_for(auth_server, redirect_uri)
        except OAuthError as exc:
            self._login_failed(str(exc))
            raise
        if client.registered and client is not self._client:
            self._client = client
            await self._save_client(client)
        pkce = PKCEParameters.generate()
        state = secrets.token_urlsafe(32)
        params = {
            "response_type": "code",
            "client_id": client.info.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": pkce.code_challenge,
            "code_challenge_method": "S256",
            "resource": auth_server.resource,
        }
        scope = self._scope(auth_server)
        if scope:
            params["scope"] = scope
        url = f"{auth_server.metadata.authorization_endpoint}?{urlencode(params)}"
        return PendingLogin(
            server=self.server,
            state=state,
            verifier=pkce.code_verifier,
            redirect_uri=redirect_uri,
            auth_server=auth_server,
            client=client,
            authorization_url=url,
            expires_at=time.time() + self._policy.login_ttl_s,
        )

    def _login_failed(self, message: str) -> None:
        self.login_failures += 1
        self._last_error = f"login failed: {message}"
        self._notify()

    def fail_login(self, message: str) -> None:
        """Record a login the authorization server or the user turned down."""
        self._login_failed(message)

    async def finish_login(self, pending: PendingLogin, code: str, iss: str | None) -> None:
        """Exchange the callback's code for tokens and store them."""
        try:
            validate_authorization_response_iss(iss, pending.auth_server.metadata)
        except OAuthFlowError as exc:
            if iss is None or not issuers_match(iss, pending.auth_server.issuer):
                self._login_failed(str(exc))
                raise DefinitiveOAuthError(self.server, "invalid_request", str(exc)) from exc
        try:
            tokens = await exchange_code(
                self._http(),
                self.server,
                token_endpoint=pending.client.token_endpoint,
                client=pending.client.info,
                code=code,
                verifier=pending.verifier,
                redirect_uri=pending.redirect_uri,
                resource=pending.client.resource,
            )
        except OAuthError as exc:
            self._login_failed(str(exc))
            raise
        async with self._lock:
            self._client = pending.client
            await self._save_client(pending.client)
            await self._save_tokens(tokens)
            self._tokens = tokens
            self.logins += 1
            self._set_state(AuthState.AUTHORIZED)
        logger.info("upstream %s: logged in (scope %s)", self.server, tokens.scope or "-")

    # -- refresh --------------------------------------------------------------------------------

    async def _lose_grant(self, exc: DefinitiveOAuthError) -> None:
        """The authorization server said no: drop what it no longer honours, ask for a login."""
        self._tokens = None
        await self._save_tokens(None)
        if exc.code in _CLIENT_GONE and self._client is not None and self._client.registered:
            self._client = None  # a revoked registration: the next login registers again
            await self._save_client(None)
        self._set_state(AuthState.NEEDS_REAUTH, str(exc))

    async def _refresh_locked(self, tokens: TokenSet) -> None:
        client = self._client
        if tokens.refresh_token is None or client is None:
            error = DefinitiveOAuthError(
                self.server, "invalid_grant", "the token expired and there is no refresh token"
            )
            await self._lose_grant(error)
            raise error
        try:
            fresh = await refresh_tokens(
                self._http(),
                self.server,
                token_endpoint=client.token_endpoint,
                client=client.info,
                tokens=tokens,
                resource=client.resource,
            )
        except DefinitiveOAuthError as exc:
            await self._lose_grant(exc)
            raise
        except TransientOAuthError as exc:
            self._last_error = f"refresh failed, will retry: {exc}"
            logger.warning("upstream %s: %s", self.server, self._last_error)
            self._notify()
            raise
        # Written before it is used: the old refresh token may already be spent (rotation).
        await self._save_tokens(fresh)
        self._tokens = fresh
        self.refreshes += 1
        self.last_refresh_at = time.time()
        self._set_state(AuthState.AUTHORIZED)

    async def refresh(self, expected: TokenSet | None = None) -> None:
        """Refresh now, unless the tokens already moved on from `expected`."""
        async with self._lock:
            tokens = self._tokens
            if tokens is None or self._state is not AuthState.AUTHORIZED:
                return
            if expected is not None and tokens is not expected:
                return
            await self._refresh_locked(tokens)

    async def after_unauthorized(self, sent: str | None) -> bool:
        """The upstream answered 401 to `sent`: refresh once; True when a retry may succeed."""
        async with self._lock:
            tokens = self._tokens
            if tokens is None or self._state is not AuthState.AUTHORIZED:
                return False
            if sent != f"Bearer {tokens.access_token}":
                return True  # another request refreshed meanwhile
            try:
                await self._refresh_locked(tokens)
            except OAuthError:
                return False
            return True

    def _refresh_at(self, tokens: TokenSet) -> float | None:
        if tokens.expires_at is None or tokens.refresh_token is None:
            return None
        lifetime = max(0.0, tokens.expires_at - tokens.obtained_at)
        policy = self._policy
        lead = min(policy.max_lead_s, max(policy.min_lead_s, lifetime * policy.lead_fraction), lifetime / 2)
        return tokens.expires_at - lead

    async def run_refresher(self) -> None:
        """Refresh ahead of expiry until cancelled; transient failures back off and retry."""
        attempt = 0
        while True:
            changed = self._changed
            tokens = self._tokens
            due = self._refresh_at(tokens) if tokens is not None and self._state is AuthState.AUTHORIZED else None
            if tokens is None or due is None:
                await changed.wait()
                continue
            delay = due - time.time()
            if delay > 0:
                with anyio.move_on_after(delay):
                    await changed.wait()
                continue
            try:
                await self.refresh(expected=tokens)
                attempt = 0
            except TransientOAuthError:
                backoff = min(self._policy.backoff_max_s, self._policy.backoff_initial_s * 2**attempt)
                attempt = min(attempt + 1, 30)
                with anyio.move_on_after(backoff * random.uniform(0.75, 1.0)):
                    await self._changed.wait()
            except DefinitiveOAuthError:
                attempt = 0
