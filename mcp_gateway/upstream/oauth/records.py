"""What the gateway keeps per OAuth upstream: the tokens and the client it registered or was given."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

__all__ = ["ClientRecord", "StoredAuth", "TokenSet"]


@dataclass(frozen=True, slots=True)
class TokenSet:
    """One grant's tokens; `expires_at` is a Unix time (None: the server gave no lifetime)."""

    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scope: str | None
    obtained_at: float

    @classmethod
    def from_response(cls, token: OAuthToken, previous: TokenSet | None = None) -> TokenSet:
        """From a token endpoint answer; a refresh that omits refresh_token or scope keeps the old ones."""
        now = time.time()
        return cls(
            access_token=token.access_token,
            refresh_token=token.refresh_token or (previous.refresh_token if previous else None),
            expires_at=now + token.expires_in if token.expires_in is not None else None,
            scope=token.scope if token.scope is not None else (previous.scope if previous else None),
            obtained_at=now,
        )

    def expires_within(self, seconds: float) -> bool:
        """True when the access token expires in less than `seconds` (never, without a lifetime)."""
        return self.expires_at is not None and self.expires_at - time.time() < seconds

    def to_json(self) -> bytes:
        """Serialised for the store."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> TokenSet:
        """Parsed from the store."""
        return cls(**json.loads(data))


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """The OAuth client used with an upstream's authorization server.

    `registered` marks a client the gateway registered itself (RFC 7591), which it may register
    again (for a new redirect URI, or after the server forgot it); a configured client it may not.
    `token_endpoint` and `resource` are kept from discovery so that a restarted gateway can
    refresh without discovering again.
    """

    info: OAuthClientInformationFull
    issuer: str | None
    registered: bool
    token_endpoint: str
    resource: str | None

    def to_json(self) -> bytes:
        """Serialised for the store."""
        data: dict[str, Any] = {
            "info": self.info.model_dump(mode="json", exclude_none=True),
            "issuer": self.issuer,
            "registered": self.registered,
            "token_endpoint": self.token_endpoint,
            "resource": self.resource,
        }
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ClientRecord:
        """Parsed from the store."""
        raw = json.loads(data)
        info = OAuthClientInformationFull.model_validate(raw["info"])
        return cls(
            info=info,
            issuer=raw.get("issuer"),
            registered=bool(raw.get("registered")),
            token_endpoint=raw["token_endpoint"],
            resource=raw.get("resource"),
        )


@dataclass(frozen=True, slots=True)
class StoredAuth:
    """Everything stored for one upstream; `url` is the server URL the tokens were issued for."""

    url: str
    tokens: TokenSet | None
    client: ClientRecord | None
