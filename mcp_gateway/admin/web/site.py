"""What every page shares: where its data comes from, who is looking, login and logout.

Access: the admin key sees every page; a reviewer key (a virtual key with `reviewer_for`) sees
the approval queue only, limited to the held calls of its groups. Logs hold every key's
arguments and results, so they are for the admin alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mcp_gateway.admin.approvals import authenticate_reviewer
from mcp_gateway.admin.web.render import SECURITY_HEADERS, Renderer
from mcp_gateway.admin.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, WebSession, WebSessions
from mcp_gateway.approvals import ApprovalQueue
from mcp_gateway.config.models import GatewayConfig
from mcp_gateway.errors import PolicyError
from mcp_gateway.governance import Governance, Identity
from mcp_gateway.governance.credentials import hash_key
from mcp_gateway.observability import LogStore
from mcp_gateway.upstream.connection import Upstream
from mcp_gateway.upstream.oauth.manager import UpstreamAuth

__all__ = ["PageHandler", "Site", "Viewer", "WebSources"]

PREFIX = "/ui"


@dataclass(frozen=True)
class WebSources:
    """Getters for the running gateway's parts (built in the lifespan, replaced on reload)."""

    governance: Callable[[], Governance]
    approvals: Callable[[], ApprovalQueue]
    upstreams: Mapping[str, Upstream]
    config: Callable[[], GatewayConfig]
    logs: LogStore | None = None
    """The log store of `/api/logs`, when logging is on (the logs pages need it)."""
    upstream_auth: UpstreamAuth | None = None
    """Upstream OAuth sessions: their state on the servers page, and logins started from it."""


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: their identity as of this request, and their session."""

    identity: Identity
    session: WebSession

    @property
    def is_admin(self) -> bool:
        """The admin key: every page."""
        return self.identity.is_admin


PageHandler = Callable[[Request, Viewer], Awaitable[Response]]

_NAV = (
    ("approvals", "Approvals", False),
    ("logs", "Logs", True),
    ("servers", "Servers", True),
    ("keys", "Keys & groups", True),
)


def _form_text(value: Any) -> str:
    """A form field as text (an uploaded file in a text field counts as empty)."""
    return value if isinstance(value, str) else ""


class Site:
    """Sessions, rendering and the access check around every page handler."""

    def __init__(self, sources: WebSources, sessions: WebSessions | None = None) -> None:
        self.sources = sources
        self.sessions = sessions if sessions is not None else WebSessions()
        self.renderer = Renderer()

    # -- who is looking -------------------------------------------------------------------------

    def viewer(self, request: Request) -> Viewer | None:
        """The request's viewer, re-resolved from the session's key digest; None if logged out."""
        session = self.sessions.lookup(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        identity = self.sources.governance().resolve_digest(session.digest)
        if identity is None or not (identity.is_admin or identity.reviewer_for):
            self.sessions.drop(session)  # the key was revoked, disabled or lost its reviewer role
            return None
        return Viewer(identity, session)

    def guard(self, handler: PageHandler, *, admin_only: bool) -> Callable[[Request], Awaitable[Response]]:
        """Wrap `handler`: logged-out requests go to the login page, reviewers off admin pages get 403."""

        async def endpoint(request: Request) -> Response:
            viewer = self.viewer(request)
            if viewer is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":  # a form posted after the session ended: start over on its page
                    target = target.rsplit("/", 2)[0] if target.count("/") > 2 else f"{PREFIX}/"
                return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)
            if admin_only and not viewer.is_admin:
                return self.error(request, viewer, 403, "This page is for the admin key only.")
            return await handler(request, viewer)

        return endpoint

    async def form(self, request: Request, viewer: Viewer) -> dict[str, str] | None:
        """The POSTed form as text fields, or None when its CSRF token does not match the session."""
        form = await request.form()
        fields = {key: _form_text(value) for key, value in form.items()}
        return fields if self.sessions.csrf_ok(viewer.session, fields.get("csrf")) else None

    # -- rendering ------------------------------------------------------------------------------

    def render(self, request: Request, viewer: Viewer | None, template: str, status: int = 200, **ctx: Any) -> Response:
        """A page in the shared layout: navigation for what `viewer` may see, their CSRF token."""
        nav = [
            (f"{PREFIX}/{slug}", label, request.url.path.startswith(f"{PREFIX}/{slug}"))
            for slug, label, admin_only in _NAV
            if viewer is not None and (viewer.is_admin or not admin_only) and self._has_page(slug)
        ]
        return self.renderer.page(
            template,
            status_code=status,
            viewer=viewer,
            csrf=viewer.session.csrf if viewer is not None else "",
            nav=nav,
            prefix=PREFIX,
            **ctx,
        )

    def _has_page(self, slug: str) -> bool:
        return slug != "logs" or self.sources.logs is not None

    def error(self, request: Request, viewer: Viewer | None, status: int, message: str) -> Response:
        """An error page with `status`."""
        return self.render(request, viewer, "error.html", status, code=status, message=message)

    # -- login and logout -----------------------------------------------------------------------

    def _login_page(self, request: Request, status: int = 200, error: str = "", next_url: str = "") -> Response:
        token = self.sessions.login_token()
        response = self.render(request, None, "login.html", status, error=error, login_token=token, next=next_url)
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", path=f"{PREFIX}/login", secure=_https(request)
        )
        return response

    async def login(self, request: Request) -> Response:
        """`GET /ui/login` shows the form; `POST` checks the key and opens a session."""
        next_url = _safe_next(request.query_params.get("next", ""))
        if request.method == "GET":
            if self.viewer(request) is not None:
                return RedirectResponse(next_url or f"{PREFIX}/", status_code=303)
            return self._login_page(request, next_url=next_url)
        form = await request.form()
        fields = {key: _form_text(value) for key, value in form.items()}
        next_url = _safe_next(fields.get("next", ""))
        if not self.sessions.login_ok(request.cookies.get(LOGIN_COOKIE), fields.get("login_token")):
            return self._login_page(request, 403, "The form expired or was not sent by this page; try again.", next_url)
        key = fields.get("key", "").strip()
        try:
            authenticate_reviewer(self.sources.governance(), key or None)
        except PolicyError as exc:
            return self._login_page(request, 401 if exc.status == 401 else 403, _login_error(exc), next_url)
        _session, cookie = self.sessions.create(hash_key(key))
        response = RedirectResponse(next_url or f"{PREFIX}/", status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            SESSION_COOKIE, cookie, httponly=True, samesite="strict", path=PREFIX, secure=_https(request)
        )
        response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
        return response

    async def logout(self, request: Request) -> Response:
        """`POST /ui/logout` (with the CSRF token) ends the session."""
        viewer = self.viewer(request)
        if viewer is not None:
            if await self.form(request, viewer) is None:
                return self.error(request, viewer, 403, "The form was not sent by this session (CSRF token mismatch).")
            self.sessions.drop(viewer.session)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    async def home(self, request: Request) -> Response:
        """`/ui/`: the approval queue, where reviewers work."""
        return RedirectResponse(f"{PREFIX}/approvals", status_code=303)


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(target: str) -> str:
    """Only paths under the pages: `next` must not send a freshly logged-in user elsewhere."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def _login_error(exc: PolicyError) -> str:
    if exc.status == 401:
        return "Unknown, revoked or missing key."
    return str(exc)
