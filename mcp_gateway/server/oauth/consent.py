"""The consent page: the person logging in picks the virtual key a client may act as.

`GET /authorize/consent?request=<id>` shows the client's name, the requested scope and where the
browser will return, and asks for a virtual key. `POST` approves (the key must authenticate;
the grant stores the key's name and id, never the key) or denies (`error=access_denied`).
CSRF: the form carries a per-request token that must also come back in a `SameSite=Strict`,
`HttpOnly` cookie set by the GET, so another site can neither read nor replay it.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mcp_gateway.errors import PolicyError
from mcp_gateway.server.oauth.provider import CONSENT_PATH, MAX_KEY_ATTEMPTS, GatewayAuthProvider, PendingConsent

__all__ = ["ConsentPage", "issuer_of"]

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # No scripts at all; `form-action` is left out because browsers apply it to the redirect
    # that follows the POST, which goes to the client's own redirect URI.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def issuer_of(request: Request, configured: str | None) -> str:
    """The issuer: `gateway.oauth.issuer_url`, else the scheme and host the request came to."""
    if configured:
        return configured
    return str(request.base_url).rstrip("/")


def _cookie_name(request_id: str) -> str:
    return f"mcpgw_csrf_{request_id[:12]}"


class ConsentPage:
    """The two endpoints of the consent page, rendered with Jinja2 (no external assets, no JS)."""

    def __init__(self, provider: GatewayAuthProvider) -> None:
        self._provider = provider
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._template = self._env.get_template("consent.html.j2")

    def _render(self, status: int, **context: object) -> HTMLResponse:
        values: dict[str, object] = {"message": None, "title": "", "error": None}
        values.update(context)
        return HTMLResponse(self._template.render(**values), status_code=status, headers=_HEADERS)

    def _gone(self) -> HTMLResponse:
        return self._render(
            400,
            title="This sign-in request has expired",
            message="It was already used or is too old. Start the login again from your client.",
        )

    def _page(self, pending: PendingConsent, *, status: int = 200, error: str | None = None) -> HTMLResponse:
        client = pending.client
        redirect = urlsplit(str(pending.params.redirect_uri))
        scopes = pending.params.scopes or self._provider.settings.scopes
        return self._render(
            status,
            client_name=client.client_name or client.client_id,
            client_id=client.client_id,
            scopes=" ".join(scopes),
            redirect_host=f"{redirect.scheme}://{redirect.netloc}",
            action=f"{self._provider.settings.issuer_url or ''}{CONSENT_PATH}",
            request_id=pending.request_id,
            csrf=pending.csrf,
            error=error,
        )

    async def show(self, request: Request) -> Response:
        """`GET`: the page, and the CSRF cookie."""
        pending = self._provider.pending(request.query_params.get("request", ""))
        if pending is None:
            return self._gone()
        response = self._page(pending)
        response.set_cookie(
            _cookie_name(pending.request_id),
            pending.csrf,
            max_age=int(pending.expires_at - self._provider.clock()) + 1,
            path=CONSENT_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def decide(self, request: Request) -> Response:
        """`POST`: approve with a virtual key, or deny; then back to the client's redirect URI."""
        form = await request.form()
        request_id, csrf, decision, key = (str(form.get(name) or "") for name in ("request", "csrf", "decision", "key"))
        pending = self._provider.pending(request_id)
        if pending is None:
            return self._gone()
        cookie = request.cookies.get(_cookie_name(request_id), "")
        if not (hmac.compare_digest(csrf, pending.csrf) and hmac.compare_digest(cookie, pending.csrf)):
            return self._render(
                403,
                title="This form could not be verified",
                message="Reload the sign-in page from your client and try again (cookies must be enabled).",
            )
        issuer = issuer_of(request, self._provider.settings.issuer_url)
        if decision != "approve":
            self._provider.finish(pending)
            return self._back(self._provider.redirect(pending, issuer, error="access_denied"))
        try:
            identity = self._provider.directory.authenticate(key.strip() or None)
        except PolicyError as exc:
            pending.attempts += 1
            if pending.attempts >= MAX_KEY_ATTEMPTS:
                self._provider.finish(pending)
                description = "too many wrong keys"
                return self._back(
                    self._provider.redirect(pending, issuer, error="access_denied", error_description=description)
                )
            return self._page(pending, status=401, error=f"That key was not accepted: {exc}")
        code = await self._provider.approve(pending, identity)
        return self._back(self._provider.redirect(pending, issuer, code=code))

    @staticmethod
    def _back(url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
