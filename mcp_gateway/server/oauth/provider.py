"""The gateway's `OAuthAuthorizationServerProvider`: clients, consent requests, codes and tokens.

The MCP SDK's handlers (`mcp.server.auth.handlers`) speak the protocol: they validate requests,
check PKCE (S256 only), redirect URIs and scopes, and call this provider to store and look up
records. What is ours: every grant is bound to the virtual key chosen on the consent page;
refresh tokens rotate, and presenting a spent one (or a spent code) revokes the whole grant;
access tokens live in an in-memory index so the request path costs one hash and one dict lookup.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    IdentityAssertionParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl, ConfigDict, PrivateAttr

from mcp_gateway.config.oauth_server import OAuthServerSettings
from mcp_gateway.errors import AuthenticationError
from mcp_gateway.governance.identity import Identity
from mcp_gateway.server.oauth.records import (
    ACCESS_TOKEN_PREFIX,
    CODE_PREFIX,
    REFRESH_TOKEN_PREFIX,
    ClientRecord,
    CodeRecord,
    Grant,
    TokenRecord,
    digest,
    new_secret,
)
from mcp_gateway.server.oauth.store import OAuthStore

__all__ = ["CONSENT_PATH", "GatewayAuthProvider", "KeyDirectory", "PendingConsent"]

logger = logging.getLogger("mcp_gateway.oauth")

CONSENT_PATH = "/authorize/consent"
MAX_KEY_ATTEMPTS = 5
"""Wrong keys allowed on one consent page before the request is refused (slows guessing)."""
MAX_PENDING = 10_000
"""Consent requests in flight at once; `/authorize` is unauthenticated, so memory is capped."""


class KeyDirectory(Protocol):
    """What the provider needs of governance: `Governance` satisfies it."""

    def authenticate(self, credential: str | None) -> Identity:
        """The identity of a virtual key; raises `PolicyError` to refuse."""
        ...

    def current(self, identity: Identity) -> Identity | None:
        """The up-to-date identity of the same key; None when it is revoked, disabled or gone."""
        ...

    @property
    def generation(self) -> int:
        """Grows whenever any view or key may have changed."""
        ...


@dataclass(slots=True)
class PendingConsent:
    """An authorization request waiting on the consent page (in memory: it lives minutes)."""

    request_id: str
    client: OAuthClientInformationFull
    params: AuthorizationParams
    csrf: str
    expires_at: float
    attempts: int = 0


class GatewayCode(AuthorizationCode):
    """An authorization code as the SDK handlers see it, carrying its grant."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    grant: Grant


class GatewayRefreshToken(RefreshToken):
    """A refresh token as the SDK handlers see it, carrying its record."""

    _record: TokenRecord | None = PrivateAttr(default=None)

    @property
    def record(self) -> TokenRecord:
        """The stored record this token was loaded from."""
        assert self._record is not None
        return self._record


class GatewayAccessToken(AccessToken):
    """An access token as the SDK handlers see it, carrying its record."""

    _record: TokenRecord | None = PrivateAttr(default=None)

    @property
    def record(self) -> TokenRecord:
        """The stored record this token was loaded from."""
        assert self._record is not None
        return self._record


_Carrier = TypeVar("_Carrier", GatewayAccessToken, GatewayRefreshToken)


def _carrying(cls: type[_Carrier], token: str, record: TokenRecord) -> _Carrier:
    """The SDK's view of a stored token (`cls`), carrying its record for the later steps."""
    grant = record.grant
    carrier = cls(
        token=token,
        client_id=grant.client_id,
        scopes=list(grant.scopes),
        expires_at=int(record.expires_at),
        resource=grant.resource,
        subject=grant.key_name,
    )
    carrier._record = record
    return carrier


class GatewayAuthProvider:
    """Implements the SDK's `OAuthAuthorizationServerProvider` over an `OAuthStore`.

    `start(store, directory)` runs in the lifespan; before it, nothing reaches this object.
    """

    def __init__(self, settings: OAuthServerSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._access_ttl = settings.seconds("access_token_ttl")
        self._refresh_ttl = settings.seconds("refresh_token_ttl")
        self._code_ttl = settings.seconds("authorization_code_ttl")
        self._consent_ttl = settings.seconds("consent_ttl")
        self._store: OAuthStore | None = None
        self._directory: KeyDirectory | None = None
        self._access: dict[str, TokenRecord] = {}
        self._pending: dict[str, PendingConsent] = {}

    async def start(self, store: OAuthStore, directory: KeyDirectory) -> None:
        """Attach the store and governance; load live access tokens into the index."""
        self._store, self._directory = store, directory
        self._access = {t.token_hash: t for t in await store.live_access_tokens(self.clock())}

    @property
    def store(self) -> OAuthStore:
        """The attached store (the lifespan attaches it before any request)."""
        assert self._store is not None, "GatewayAuthProvider.start() has not run"
        return self._store

    @property
    def directory(self) -> KeyDirectory:
        """The attached key directory (governance)."""
        assert self._directory is not None, "GatewayAuthProvider.start() has not run"
        return self._directory

    # -- the request path ---------------------------------------------------------------------

    def identity_for_token(self, token: str) -> Identity:
        """The identity of the key an access token is bound to: one hash, one dict lookup.

        Raises `AuthenticationError` (401, `oauth_error: invalid_token`) for an unknown, expired
        or revoked token, or one whose key is no longer active.
        """
        record = self._access.get(digest(token))
        if record is None or record.revoked:
            raise AuthenticationError("invalid or revoked access token; log in again", oauth_error="invalid_token")
        if record.expires_at <= self.clock():
            raise AuthenticationError("access token expired; refresh it", oauth_error="invalid_token")
        directory = self.directory
        generation = directory.generation
        if record.resolved is not None and record.resolved[0] == generation:
            return record.resolved[1]
        identity = self._key_identity(record.grant)
        if identity is None:
            raise AuthenticationError(
                "the virtual key this login is bound to is revoked, disabled or gone; log in again",
                oauth_error="invalid_token",
                key=record.grant.key_name,
            )
        record.resolved = (generation, identity)
        return identity

    def _key_identity(self, grant: Grant) -> Identity | None:
        return self.directory.current(Identity(grant.key_name, key_id=grant.key_id))

    # -- clients ------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """The registered client, without its secret (the stored form is a hash)."""
        record = await self.store.get_client(client_id)
        if record is None:
            return None
        return OAuthClientInformationFull.model_validate_json(record.metadata_json)

    async def client_secret_hash(self, client_id: str) -> str | None:
        """The stored hash of a client's secret, for client authentication."""
        record = await self.store.get_client(client_id)
        return record.secret_hash if record is not None else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """Store a client registered through RFC 7591; its secret only as a hash."""
        secret = client_info.client_secret
        metadata = client_info.model_copy(update={"client_secret": None}).model_dump_json(exclude_none=True)
        record = ClientRecord(
            client_id=client_info.client_id,
            metadata_json=metadata,
            secret_hash=digest(secret) if secret else None,
            created_at=self.clock(),
        )
        await self.store.add_client(record)
        logger.info("oauth: registered client %s (%s)", client_info.client_id, client_info.client_name or "unnamed")

    # -- consent ------------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Park the validated request and send the browser to the consent page."""
        now = self.clock()
        for request_id in [r for r, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[request_id]
        if len(self._pending) >= MAX_PENDING:
            raise AuthorizeError("temporarily_unavailable", "too many sign-ins in progress; try again later")
        request_id = secrets.token_urlsafe(24)
        self._pending[request_id] = PendingConsent(
            request_id=request_id,
            client=client,
            params=params,
            csrf=secrets.token_urlsafe(24),
            expires_at=now + self._consent_ttl,
        )
        return f"{self.settings.issuer_url or ''}{CONSENT_PATH}?request={request_id}"

    def pending(self, request_id: str) -> PendingConsent | None:
        """The consent request with this id, unless it expired."""
        pending = self._pending.get(request_id)
        if pending is None or pending.expires_at <= self.clock():
            return None
        return pending

    def finish(self, pending: PendingConsent) -> None:
        """Drop a consent request once it was approved or denied."""
        self._pending.pop(pending.request_id, None)

    async def approve(self, pending: PendingConsent, identity: Identity) -> str:
        """Bind the request to `identity`'s key and issue an authorization code."""
        self.finish(pending)
        params = pending.params
        scopes = tuple(params.scopes) if params.scopes else tuple(self.settings.scopes)
        grant = Grant(
            family=secrets.token_urlsafe(16),
            client_id=pending.client.client_id,
            key_name=identity.key_name,
            key_id=identity.key_id,
            scopes=scopes,
            resource=params.resource,
        )
        code = new_secret(CODE_PREFIX)
        record = CodeRecord(
            code_hash=digest(code),
            grant=grant,
            code_challenge=params.code_challenge,
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            expires_at=self.clock() + self._code_ttl,
        )
        await self.store.add_code(record)
        logger.info("oauth: client %s approved for key %s", grant.client_id, grant.key_name)
        return code

    def redirect(self, pending: PendingConsent, issuer: str, **params: str | None) -> str:
        """The client's redirect URI with `params`, its `state` and our `iss` (RFC 9207)."""
        uri = str(pending.params.redirect_uri)
        return construct_redirect_uri(uri, **params, state=pending.params.state, iss=issuer)

    # -- authorization codes ------------------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> GatewayCode | None:
        """The code, unless unknown; a replayed code revokes what it was exchanged for."""
        record = await self.store.get_code(digest(authorization_code))
        if record is None or record.grant.client_id != client.client_id:
            return None
        if record.used:
            logger.warning("oauth: authorization code replayed by client %s; revoking its tokens", client.client_id)
            await self._revoke_family(record.grant.family)
            return None
        return GatewayCode(
            code=authorization_code,
            scopes=list(record.grant.scopes),
            expires_at=record.expires_at,
            client_id=record.grant.client_id,
            code_challenge=record.code_challenge,
            redirect_uri=AnyUrl(record.redirect_uri),
            redirect_uri_provided_explicitly=record.redirect_uri_provided_explicitly,
            resource=record.grant.resource,
            subject=record.grant.key_name,
            grant=record.grant,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: GatewayCode
    ) -> OAuthToken:
        """Spend the code (once) and issue an access and a refresh token."""
        if not await self.store.use_code(digest(authorization_code.code)):
            raise TokenError("invalid_grant", "authorization code already used")
        return await self._issue(authorization_code.grant)

    # -- refresh tokens -----------------------------------------------------------------------

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        """The refresh token, unless unknown or revoked; a spent one revokes the whole grant."""
        record = await self.store.get_token(digest(refresh_token))
        if record is None or record.kind != "refresh" or record.revoked or record.grant.client_id != client.client_id:
            return None
        if record.used:
            logger.warning("oauth: refresh token reused by client %s; revoking the grant", client.client_id)
            await self._revoke_family(record.grant.family)
            return None
        return _carrying(GatewayRefreshToken, refresh_token, record)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: GatewayRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        """Rotate: spend this refresh token and issue a new pair under the same grant."""
        record = refresh_token.record
        if not await self.store.use_token(record.token_hash):
            await self._revoke_family(record.grant.family)
            raise TokenError("invalid_grant", "refresh token already used")
        grant = record.grant
        if scopes and tuple(scopes) != grant.scopes:
            grant = Grant(grant.family, grant.client_id, grant.key_name, grant.key_id, tuple(scopes), grant.resource)
        return await self._issue(grant)

    async def exchange_identity_assertion(
        self, client: OAuthClientInformationFull, params: IdentityAssertionParams
    ) -> OAuthToken:
        """SEP-990 enterprise assertions are not supported: logins go through the consent page."""
        raise TokenError("unsupported_grant_type", "the JWT bearer grant is not supported by this gateway")

    # -- access tokens and revocation ---------------------------------------------------------

    async def load_access_token(self, token: str) -> GatewayAccessToken | None:
        """The live access token (for revocation and introspection), from the in-memory index."""
        record = self._access.get(digest(token))
        if record is None or record.revoked or record.expires_at <= self.clock():
            return None
        return _carrying(GatewayAccessToken, token, record)

    async def revoke_token(self, token: GatewayAccessToken | GatewayRefreshToken) -> None:
        """RFC 7009: revoke the token and everything issued under the same grant."""
        await self._revoke_family(token.record.grant.family)

    async def _revoke_family(self, family: str) -> None:
        await self.store.revoke_family(family)
        for record in self._access.values():
            if record.grant.family == family:
                record.revoked = True

    async def _issue(self, grant: Grant) -> OAuthToken:
        if self._key_identity(grant) is None:
            raise TokenError("invalid_grant", f"the virtual key {grant.key_name!r} is no longer active; log in again")
        now = self.clock()
        access, refresh = new_secret(ACCESS_TOKEN_PREFIX), new_secret(REFRESH_TOKEN_PREFIX)
        access_record = TokenRecord(digest(access), "access", grant, now + self._access_ttl)
        refresh_record = TokenRecord(digest(refresh), "refresh", grant, now + self._refresh_ttl)
        await self.store.add_tokens([access_record, refresh_record])
        self._access[access_record.token_hash] = access_record
        return OAuthToken(
            access_token=access,
            expires_in=self._access_ttl,
            scope=" ".join(grant.scopes),
            refresh_token=refresh,
        )

    # -- housekeeping -------------------------------------------------------------------------

    async def purge(self) -> int:
        """Drop expired records from the store, the index and the consent requests."""
        now = self.clock()
        for token_hash in [h for h, r in self._access.items() if r.expires_at <= now or r.revoked]:
            del self._access[token_hash]
        for request_id in [r for r, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[request_id]
        return await self.store.purge(now)

    async def run_maintenance(self, interval_s: float = 600.0) -> None:
        """Purge expired records forever (run it in the lifespan's task group)."""
        while True:
            await anyio.sleep(interval_s)
            try:
                await self.purge()
            except Exception:  # a failed purge must not end the loop; expired rows are refused anyway
                logger.exception("oauth: could not purge expired records")
