"""Errors of upstream OAuth, under `UpstreamError`.

UpstreamError
└── OAuthError                 the upstream's authorization failed us
    ├── LoginRequired          no usable token: a person must log in (`needs_login`/`needs_reauth`)
    ├── TransientOAuthError    network error, timeout, HTTP 5xx/429: retry, keep the login
    └── DefinitiveOAuthError   the authorization server said no (`invalid_grant`, `invalid_client`)
"""

from __future__ import annotations

from mcp_gateway.errors import UpstreamError

__all__ = ["DefinitiveOAuthError", "LoginRequired", "OAuthError", "TransientOAuthError"]


class OAuthError(UpstreamError):
    """Authorization with an upstream failed."""


class LoginRequired(OAuthError):
    """There is no usable token for the upstream until someone logs in."""


class TransientOAuthError(OAuthError):
    """The authorization server could not be reached or failed; the login is kept and retried."""


class DefinitiveOAuthError(OAuthError):
    """The authorization server refused the grant or the client; `code` is its OAuth error code."""

    def __init__(self, server: str, code: str, message: str) -> None:
        self.code = code
        super().__init__(server, message)
