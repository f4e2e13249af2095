"""Browser sessions for the web pages: a server-side map from a random id to a key digest.

The cookie carries `<session id>.<HMAC-SHA256 of the id>` under a secret drawn when the pages are
built (once per process, in the app lifespan), so a restart logs everyone out and a forged or
guessed id is refused before any lookup. The session itself stays on the server and holds only the
SHA-256 digest of the key used to log in, never the key: every request re-resolves that digest
through `Governance.resolve_digest`, so a revoked key, a disabled one or a changed admin key loses
access on its next click.

Each session has a CSRF token that every POST form must echo. The login form, which has no session
yet, uses a signed nonce that the browser holds both as a cookie and as a form field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LOGIN_COOKIE", "SESSION_COOKIE", "WebSession", "WebSessions"]

SESSION_COOKIE = "mcpg_session"
LOGIN_COOKIE = "mcpg_login"


@dataclass(slots=True)
class WebSession:
    """One logged-in browser. `digest` is `sha256:<hex>` of the key it logged in with."""

    id: str
    digest: str
    csrf: str
    created_at: float
    last_seen: float


class WebSessions:
    """Sessions of this process; see the module docstring.

    `idle_s`: a session unused this long ends. `max_sessions`: the oldest-used session goes first
    when more are opened (a browser that logs in over and over cannot grow the map without bound).
    """

    def __init__(
        self,
        *,
        idle_s: float = 8 * 3600,
        max_sessions: int = 10_000,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.idle_s = idle_s
        self._max = max_sessions
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._clock = clock
        self._sessions: OrderedDict[str, WebSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    # -- signing --------------------------------------------------------------------------------

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def _unsign(self, purpose: str, signed: str | None) -> str | None:
        if not signed:
            return None
        value, _, mac = signed.rpartition(".")
        if not value or not hmac.compare_digest(mac, self._mac(purpose, value)):
            return None
        return value

    # -- sessions -------------------------------------------------------------------------------

    def create(self, digest: str) -> tuple[WebSession, str]:
        """A new session for the key with `digest`; returns it and the cookie value to set."""
        now = self._clock()
        session = WebSession(
            id=secrets.token_urlsafe(32), digest=digest, csrf=secrets.token_urlsafe(32), created_at=now, last_seen=now
        )
        self._sessions[session.id] = session
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)
        return session, f"{session.id}.{self._mac('session', session.id)}"

    def lookup(self, cookie: str | None) -> WebSession | None:
        """The live session of a cookie value, refreshing its idle clock; None if absent, forged or expired."""
        session_id = self._unsign("session", cookie)
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_seen > self.idle_s:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        self._sessions.move_to_end(session_id)
        return session

    def drop(self, session: WebSession) -> None:
        """End `session` (logout, or its key stopped resolving)."""
        self._sessions.pop(session.id, None)

    @staticmethod
    def csrf_ok(session: WebSession, token: str | None) -> bool:
        """Whether a form's CSRF field matches its session."""
        return bool(token) and hmac.compare_digest(session.csrf, token or "")

    # -- the login form -------------------------------------------------------------------------

    def login_token(self) -> str:
        """A fresh signed nonce for the login form, sent both as a cookie and as a form field."""
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac('login', nonce)}"

    def login_ok(self, cookie: str | None, field: str | None) -> bool:
        """Whether a login POST echoes the nonce its browser was given (login CSRF)."""
        return self._unsign("login", field) is not None and hmac.compare_digest(cookie or "", field or "")
