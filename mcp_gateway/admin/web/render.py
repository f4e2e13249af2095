"""Templates and the few filters they use; every page goes out through `Renderer.page`.

Templates live in `templates/` inside the package and autoescape everything. Pages are never
cached, may not be framed, and may load scripts and styles from the gateway only (no CDN).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

__all__ = ["SECURITY_HEADERS", "Renderer", "pretty_json", "relative_time", "static_file"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def pretty_json(value: Any) -> str:
    """Indented JSON for people (non-ASCII kept, key order kept)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def relative_time(timestamp: float | None, now: float | None = None) -> str:
    """`3 min ago` / `in 4 min`; an empty string for None."""
    if timestamp is None:
        return ""
    delta = timestamp - (time.time() if now is None else now)
    seconds = abs(delta)
    if seconds < 60:
        amount = f"{seconds:.0f} s"
    elif seconds < 3600:
        amount = f"{seconds / 60:.0f} min"
    elif seconds < 86400:
        amount = f"{seconds / 3600:.1f} h"
    else:
        amount = f"{seconds / 86400:.1f} d"
    return f"in {amount}" if delta > 0 else f"{amount} ago"


def utc_time(timestamp: float | None) -> str:
    """`2026-11-30 12:04:05 UTC`; an empty string for None."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def static_file(name: str) -> bytes:
    """A file of `static/` in the package."""
    return files("mcp_gateway.admin.web").joinpath("static", name).read_bytes()


class Renderer:
    """The Jinja2 environment of the pages."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("mcp_gateway.admin.web", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["pretty_json"] = pretty_json
        self.env.filters["ago"] = relative_time
        self.env.filters["utc"] = utc_time

    def page(self, template: str, status_code: int = 200, **context: Any) -> Response:
        """Render `template` with `context` into an HTML response with the security headers."""
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
