"""What an upstream transport needs from auth: a header to send and a way to react to a 401.

`UpstreamCredentials` is the seam between transports and auth schemes. `OAuthSession`
implements it with refresh; `StaticBearer` with a fixed token. `HttpxCredentialsAuth` plugs
either into the httpx2 clients of the SDK's transports.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Protocol

import anyio
import httpx2

__all__ = ["HttpxCredentialsAuth", "StaticBearer", "UpstreamCredentials"]


class UpstreamCredentials(Protocol):
    """Credentials for one upstream's HTTP requests."""

    async def wait_loaded(self) -> None:
        """Wait until stored credentials were read."""
        ...

    def is_ready(self) -> bool:
        """True when requests can be authorized now."""
        ...

    async def wait_changed(self) -> None:
        """Wait for the next change of state."""
        ...

    @property
    def last_error(self) -> str | None:
        """Why the credentials are not ready, if they are not."""
        ...

    def authorization(self) -> str | None:
        """The `Authorization` header value to send, if any."""
        ...

    async def current_authorization(self) -> str | None:
        """The header value to send now; refreshes first when the token is about to expire."""
        ...

    async def after_unauthorized(self, sent: str | None) -> bool:
        """The upstream answered 401 to a request sent with `sent`; True when a retry may succeed."""
        ...

    def status(self) -> dict[str, Any]:
        """Public facts for status displays (never a secret)."""
        ...


class StaticBearer:
    """`auth: {type: bearer}`: one token, always ready, nothing to refresh."""

    last_error: str | None = None

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    async def wait_loaded(self) -> None:
        """Nothing to load."""

    def is_ready(self) -> bool:
        """Always."""
        return True

    async def wait_changed(self) -> None:
        """A static token never changes."""
        await anyio.sleep_forever()

    def authorization(self) -> str:
        """The configured token."""
        return self._header

    async def current_authorization(self) -> str:
        """The configured token."""
        return self._header

    async def after_unauthorized(self, sent: str | None) -> bool:
        """Nothing to refresh: a refused static token stays refused."""
        self.last_error = "HTTP 401: the upstream refused the configured bearer token"
        return False

    def status(self) -> dict[str, Any]:
        """The scheme, and whether the upstream refused the token."""
        return {
            "type": "bearer",
            "state": "refused" if self.last_error else "configured",
            "last_error": self.last_error,
        }


class HttpxCredentialsAuth(httpx2.Auth):
    """Adds the current token to each request; on a 401, refreshes once and retries."""

    def __init__(self, credentials: UpstreamCredentials) -> None:
        self._credentials = credentials

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """httpx2's hook around every request the client sends."""
        sent = await self._credentials.current_authorization()
        if sent is not None:
            request.headers["Authorization"] = sent
        response = yield request
        if response.status_code == 401 and await self._credentials.after_unauthorized(sent):
            retry = self._credentials.authorization()
            if retry is not None:
                request.headers["Authorization"] = retry
                yield request
