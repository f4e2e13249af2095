"""A small client of a running gateway's admin API, for the CLI commands."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["admin_request"]


def admin_request(
    gateway: str, key: str | None, path: str, *, method: str = "GET", body: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Call `gateway`'s API with `key`; print the reason to stderr and return None on failure."""
    import httpx2

    url = gateway.rstrip("/") + path
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx2.request(method, url, headers=headers, json=body, timeout=10)
    except httpx2.HTTPError as exc:
        print(f"cannot reach the gateway at {url}: {exc}", file=sys.stderr)
        return None
    data: dict[str, Any] = (
        response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    )
    if response.status_code >= 400:
        message = data.get("error", {}).get("message", response.text)
        print(f"{url}: HTTP {response.status_code}: {message}", file=sys.stderr)
        return None
    return data
