"""`WebSessions`: signed cookies, idle expiry, the size bound, CSRF and login nonces."""

from __future__ import annotations

from mcp_gateway.admin.web import WebSessions
from mcp_gateway.governance.credentials import hash_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_cookie_resolves_only_with_its_signature_and_never_carries_the_key() -> None:
    sessions = WebSessions(secret=b"s" * 32)
    session, cookie = sessions.create(hash_key("the-key"))
    assert "the-key" not in cookie and session.digest not in cookie
    assert sessions.lookup(cookie) is session
    session_id, _, mac = cookie.rpartition(".")
    assert sessions.lookup(f"{session_id}.{'0' * len(mac)}") is None
    assert sessions.lookup(session_id) is None
    assert sessions.lookup(None) is None
    assert WebSessions(secret=b"t" * 32).lookup(cookie) is None  # another process's secret


def test_sessions_end_when_idle_or_dropped_and_the_oldest_go_first() -> None:
    clock = Clock()
    sessions = WebSessions(idle_s=60, max_sessions=2, clock=clock)
    _first, first = sessions.create("sha256:a")
    clock.now += 50
    assert sessions.lookup(first) is not None  # use refreshes the idle clock
    clock.now += 50
    assert sessions.lookup(first) is not None
    clock.now += 61
    assert sessions.lookup(first) is None
    _a, a = sessions.create("sha256:a")
    b_session, b = sessions.create("sha256:b")
    sessions.lookup(a)  # a is now the most recently used
    _c, c = sessions.create("sha256:c")
    assert len(sessions) == 2
    assert sessions.lookup(b) is None and sessions.lookup(a) is not None and sessions.lookup(c) is not None
    sessions.drop(b_session)  # dropping a gone session is harmless
    a_session = sessions.lookup(a)
    assert a_session is not None
    sessions.drop(a_session)
    assert sessions.lookup(a) is None


def test_csrf_tokens_and_login_nonces_must_match() -> None:
    sessions = WebSessions()
    session, _cookie = sessions.create("sha256:a")
    other, _ = sessions.create("sha256:a")
    assert sessions.csrf_ok(session, session.csrf)
    assert not sessions.csrf_ok(session, other.csrf)
    assert not sessions.csrf_ok(session, None) and not sessions.csrf_ok(session, "")
    token = sessions.login_token()
    assert sessions.login_ok(token, token)
    assert not sessions.login_ok(None, token)
    assert not sessions.login_ok(token, sessions.login_token())
    forged = token.rpartition(".")[0] + ".00"
    assert not sessions.login_ok(forged, forged)
