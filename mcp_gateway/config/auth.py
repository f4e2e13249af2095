"""Pydantic models of an upstream's `auth:` block (on `http` and `sse` servers).

Two schemes, told apart by `type`:

- `oauth`: the gateway logs in to the upstream with OAuth 2.1 (discovery, dynamic registration
  when no `client_id` is given, authorization code + PKCE, refresh); see docs/oauth.md.
- `bearer`: a static token sent as `Authorization: Bearer <token>` (use `${ENV}` for the value).

Static headers need no `auth:` block: they go under the server's `headers:`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BearerAuth", "OAuthAuth", "UpstreamAuthConfig"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OAuthAuth(_Model):
    """Log in to the upstream with OAuth 2.1 (authorization code + PKCE)."""

    type: Literal["oauth"]
    scopes: list[str] = Field(
        default_factory=list,
        description="Scopes to ask for; default: the scopes named in the server's 401 challenge or metadata.",
    )
    client_id: str | None = Field(
        None, min_length=1, description="A pre-registered client; without it the gateway registers one (RFC 7591)."
    )
    client_secret: str | None = Field(None, min_length=1, description="Secret of the pre-registered client.")
    client_name: str = Field("mcp-gateway", min_length=1, description="Client name sent when registering.")


class BearerAuth(_Model):
    """A static bearer token."""

    type: Literal["bearer"]
    token: str = Field(min_length=1, description="Sent as 'Authorization: Bearer <token>'; use ${ENV}.")


UpstreamAuthConfig = Annotated[OAuthAuth | BearerAuth, Field(discriminator="type")]
"""The `auth:` block of an `http` or `sse` server."""
