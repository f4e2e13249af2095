"""`gateway.oauth`: the gateway as an OAuth 2.1 authorization server for clients of `/mcp`.

Off by default. When enabled, `/mcp`, `/mcp/<group>` and `/sse` answer an unauthenticated
request with a 401 pointing at RFC 9728 metadata, and clients such as Claude Code and Cursor log
in through the gateway's consent page, which binds the login to a virtual key.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["OAuthServerSettings", "parse_ttl"]

_TTL = re.compile(r"^([1-9][0-9]{0,6})(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_ttl(value: str | int) -> int:
    """Seconds of a lifetime written as `45s`, `15m`, `12h`, `30d` or a bare number of seconds."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("must be a positive number of seconds")
        return value
    match = _TTL.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a duration: use a number with s, m, h or d (e.g. '15m', '30d')")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class OAuthServerSettings(BaseModel):
    """Optional OAuth 2.1 protection of the downstream endpoints (see docs/oauth-server.md)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Serve OAuth metadata, login and tokens; keys keep working.")
    issuer_url: str | None = Field(
        None,
        pattern=r"^https?://[^?#]+$",
        description="The gateway's public base URL (the issuer). Default: the scheme and Host of each request; "
        "set it behind a reverse proxy.",
    )
    access_token_ttl: str | int = Field("15m", description="Lifetime of access tokens ('15m', '1h', seconds).")
    refresh_token_ttl: str | int = Field("30d", description="Lifetime of refresh tokens; each use rotates it.")
    authorization_code_ttl: str | int = Field("5m", description="How long an authorization code may be redeemed.")
    consent_ttl: str | int = Field("10m", description="How long a consent page stays valid.")
    scopes: list[str] = Field(
        default_factory=lambda: ["mcp"],
        min_length=1,
        description="Scopes clients may request; the key chosen on the consent page decides what a token can do.",
    )

    @field_validator("access_token_ttl", "refresh_token_ttl", "authorization_code_ttl", "consent_ttl")
    @classmethod
    def _ttl(cls, value: str | int) -> str | int:
        parse_ttl(value)
        return value

    @field_validator("issuer_url")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    def seconds(self, field: str) -> int:
        """A lifetime field in seconds."""
        value: str | int = getattr(self, field)
        return parse_ttl(value)
